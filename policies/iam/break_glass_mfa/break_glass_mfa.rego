# METADATA
# title: Break-glass role trust requires MFA
# description: >-
#   Every Allow statement of a break-glass role's trust policy carries a Bool condition
#   aws:MultiFactorAuthPresent = true.
# custom:
#   id: LZ-IAM-004
#   severity: critical
#   remediation: >-
#     Add a Bool condition aws:MultiFactorAuthPresent = true to every statement of the
#     break-glass role's trust policy
#   controls:
#     - CIS-AWS-1.10
package lz.rules.iam.break_glass_mfa

import data.lz.lib

_break_glass contains r if {
	some r in lib.of_type("aws_iam_role")
	"break-glass" in lib.privileged_kinds(r)
}

deny contains f if {
	some r in _break_glass
	not lib.unknown(r, ["assume_role_policy"])
	some s in lib.statements(lib.policy_doc(lib.val(r, ["assume_role_policy"])))
	s.Effect == "Allow"
	not _requires_mfa(s)
	f := lib.finding(r.address, "break-glass trust statement does not require aws:MultiFactorAuthPresent = true")
}

deny contains f if {
	some r in _break_glass
	lib.unknown(r, ["assume_role_policy"])
	f := lib.unverifiable(r.address, "assume_role_policy")
}

_requires_mfa(s) if {
	values := lib.as_list(s.Condition.Bool["aws:MultiFactorAuthPresent"])
	count(values) > 0
	every v in values {
		lower(sprintf("%v", [v])) == "true"
	}
}
