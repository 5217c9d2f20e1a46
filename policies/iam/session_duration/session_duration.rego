# METADATA
# title: Privileged roles have sessions of at most one hour
# description: >-
#   Deployer and break-glass roles (tag Role, or a role name containing deployer,
#   break-glass or breakglass) set max_session_duration <= 3600 seconds; unset means the
#   AWS default of 3600.
# custom:
#   id: LZ-IAM-003
#   severity: high
#   remediation: >-
#     Set max_session_duration to 3600 or less on the privileged role
#   controls:
#     - LZ-IAM-GUARDRAIL-SESSION
package lz.rules.iam.session_duration

import data.lz.lib

deny contains f if {
	some r in lib.of_type("aws_iam_role")
	some kind in lib.privileged_kinds(r)
	not lib.unknown(r, ["max_session_duration"])
	d := object.get(r.after, "max_session_duration", null)
	d != null
	d > lib.settings.max_privileged_session_seconds
	f := lib.finding(r.address, sprintf("%s role max_session_duration is %v, above %v", [kind, d, lib.settings.max_privileged_session_seconds]))
}

deny contains f if {
	some r in lib.of_type("aws_iam_role")
	count(lib.privileged_kinds(r)) > 0
	lib.unknown(r, ["max_session_duration"])
	f := lib.unverifiable(r.address, "max_session_duration")
}
