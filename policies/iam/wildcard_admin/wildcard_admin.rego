# METADATA
# title: No IAM policy allows every action on every resource
# description: >-
#   No Allow statement in an IAM policy document (aws_iam_policy, aws_iam_role_policy,
#   aws_iam_group_policy, aws_iam_user_policy, aws_iam_role inline_policy) has Action "*"
#   together with Resource "*". A managed policy used only as a role's permissions boundary
#   (named by a permissions_boundary ARN or reference, attached by no policy attachment)
#   grants nothing by itself and is not checked.
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
	not _boundary_only(r)
}

_attachment_types := {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_user_policy_attachment"}

_boundary_only(p) if {
	p.type == "aws_iam_policy"
	some role in lib.of_type("aws_iam_role")
	_refers(role, "permissions_boundary", p)
	not _attached(p)
}

_attached(p) if {
	some a in lib.resources
	a.type in _attachment_types
	_refers(a, "policy_arn", p)
}

_refers(r, attr, p) if lib.linked(r, attr, p)

_refers(r, attr, p) if endswith(lib.str(lib.val(r, [attr])), sprintf(":policy%s%s", [_path(p), lib.str(lib.val(p, ["name"]))]))

_path(p) := x if {
	x := lib.val(p, ["path"])
	is_string(x)
} else := "/"

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
