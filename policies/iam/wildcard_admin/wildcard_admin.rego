# METADATA
# title: No IAM policy allows every action on every resource
# description: >-
#   No Allow statement in an IAM policy document (aws_iam_policy, aws_iam_role_policy,
#   aws_iam_group_policy, aws_iam_user_policy, aws_iam_role inline_policy) has Action "*"
#   together with Resource "*".
# custom:
#   id: LZ-IAM-001
#   severity: critical
#   controls:
#     - CIS-AWS-1.16
package lz.rules.iam.wildcard_admin

import data.lz.lib

_id := "LZ-IAM-001"

_severity := "critical"

_policy_types := {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_group_policy", "aws_iam_user_policy"}

_documents contains [r, ["policy"]] if {
	some r in lib.resources
	r.type in _policy_types
}

_documents contains [r, ["inline_policy", i, "policy"]] if {
	some r in lib.of_type("aws_iam_role")
	some i, _ in lib.arr(lib.val(r, ["inline_policy"]))
}

deny contains f if {
	some [r, path] in _documents
	not lib.unknown(r, path)
	some s in lib.statements(lib.policy_doc(lib.val(r, path)))
	s.Effect == "Allow"
	some a in lib.as_list(object.get(s, "Action", []))
	a in {"*", "*:*"}
	"*" in lib.as_list(object.get(s, "Resource", []))
	f := lib.finding(_id, _severity, r.address, "policy allows Action * on Resource *")
}

deny contains f if {
	some [r, path] in _documents
	lib.unknown(r, path)
	f := lib.unverifiable(_id, r.address, concat(".", [sprintf("%v", [p]) | some p in path]))
}
