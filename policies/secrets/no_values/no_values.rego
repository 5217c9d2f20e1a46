# METADATA
# title: Secret values are not written by Terraform
# description: >-
#   No aws_secretsmanager_secret_version carries secret_string or secret_binary, which
#   would store the value in plan and state; write-only arguments (secret_string_wo) or
#   out-of-band population are used instead. Values are never echoed.
# custom:
#   id: LZ-SEC-003
#   severity: critical
#   remediation: >-
#     Remove the aws_secretsmanager_secret_version (secret_string or secret_binary); values
#     are set by the rotation function or out of band, never in Terraform state
#   controls:
#     - LZ-SECRETS-NO-STATE
package lz.rules.secrets.no_values

import data.lz.lib

deny contains f if {
	some v in lib.of_type("aws_secretsmanager_secret_version")
	some attr in ["secret_string", "secret_binary"]
	_set(v, attr)
	f := lib.finding(v.address, sprintf("%s is set in the plan (value redacted); use a write-only argument", [attr]))
}

_set(v, attr) if lib.present(v, [attr])

_set(v, attr) if lib.unknown(v, [attr])
