# METADATA
# title: No IAM policy grants privilege escalation
# description: >-
#   No Allow statement in an IAM policy document grants iam:* or another action that lets a
#   principal raise its own permissions: iam:PassRole on Resource "*", creating or switching
#   a policy version (iam:CreatePolicyVersion, iam:SetDefaultPolicyVersion), attaching or
#   writing policies (iam:Attach*Policy, iam:Put*Policy), or removing a permissions boundary.
#   Action wildcards (iam:Attach*, iam:*Policy) count as the actions they match.
# custom:
#   id: LZ-IAM-007
#   severity: critical
#   remediation: >-
#     Remove the escalation actions (iam.PassRole on any role, iam.Put or Attach policy,
#     iam.CreatePolicyVersion and similar) or scope them to named resources with conditions
#   controls:
#     - CIS-AWS-1.16
#     - NIST-800-53-AC-6
#     - DORA-Art9
package lz.rules.iam.escalation

import data.lz.lib

# Escalating on any resource.
_escalating := [
	"iam:createpolicyversion",
	"iam:setdefaultpolicyversion",
	"iam:attachrolepolicy",
	"iam:attachuserpolicy",
	"iam:attachgrouppolicy",
	"iam:putrolepolicy",
	"iam:putuserpolicy",
	"iam:putgrouppolicy",
	"iam:deleterolepermissionsboundary",
	"iam:deleteuserpermissionsboundary",
	"iam:updateassumerolepolicy",
]

_pattern(a) := sprintf("^%s$", [replace(replace(lower(a), "*", "[a-z0-9]*"), "?", "[a-z0-9]")])

_matches(a, action) if regex.match(_pattern(a), action)

deny contains f if {
	some [r, _, s] in lib.known_allow_statements
	some a in lib.as_list(object.get(s, "Action", []))
	is_string(a)
	lower(a) == "iam:*"
	f := lib.finding(r.address, "policy allows iam:*")
}

deny contains f if {
	some [r, _, s] in lib.known_allow_statements
	some a in lib.as_list(object.get(s, "Action", []))
	is_string(a)
	not lower(a) in {"*", "*:*", "iam:*"}
	granted := [x | some x in _escalating; _matches(a, x)]
	count(granted) > 0
	f := lib.finding(r.address, sprintf("policy allows %s (%s)", [a, concat(", ", granted)]))
}

deny contains f if {
	some [r, _, s] in lib.known_allow_statements
	some a in lib.as_list(object.get(s, "Action", []))
	is_string(a)
	not lower(a) in {"*", "*:*", "iam:*"}
	_matches(a, "iam:passrole")
	"*" in lib.as_list(object.get(s, "Resource", []))
	f := lib.finding(r.address, sprintf("policy allows %s on Resource *", [a]))
}
