# METADATA
# title: No IAM policy allows every action on every resource
# description: >-
#   No Allow statement in an IAM policy document (aws_iam_policy, aws_iam_role_policy,
#   aws_iam_group_policy, aws_iam_user_policy, aws_iam_role inline_policy) has Action "*"
#   (on Resource "*" or on any specific resource, which is full control of it). A managed policy used only as a role's permissions boundary
#   (named by a permissions_boundary ARN or reference, attached by no policy attachment)
#   grants nothing by itself and is not checked.
# custom:
#   id: LZ-IAM-001
#   severity: critical
#   remediation: >-
#     Replace Action * on Resource * with the actions and resources the principal needs
#   controls:
#     - CIS-AWS-1.16
package lz.rules.iam.wildcard_admin

import data.lz.lib

deny contains f if {
	some [r, _, s] in lib.known_allow_statements
	some a in lib.as_list(object.get(s, "Action", []))
	a in {"*", "*:*"}
	"*" in lib.as_list(object.get(s, "Resource", []))
	f := lib.finding(r.address, "policy allows Action * on Resource *")
}

# Every action on a specific resource (a role, a key, a bucket) is full control of it.
deny contains f if {
	some [r, _, s] in lib.known_allow_statements
	some a in lib.as_list(object.get(s, "Action", []))
	a in {"*", "*:*"}
	resources := [x | some x in lib.as_list(object.get(s, "Resource", [])); x != "*"]
	count(resources) > 0
	not "*" in lib.as_list(object.get(s, "Resource", []))
	f := lib.finding(r.address, sprintf("policy allows Action * on %s", [concat(", ", [sprintf("%v", [x]) | some x in resources])]))
}

deny contains f if {
	some [r, path] in lib.policy_documents
	lib.unknown(r, path)
	f := lib.unverifiable(r.address, concat(".", [sprintf("%v", [p]) | some p in path]))
}
