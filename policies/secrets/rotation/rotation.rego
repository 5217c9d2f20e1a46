# METADATA
# title: Secrets rotate automatically
# description: >-
#   Every aws_secretsmanager_secret has an aws_secretsmanager_secret_rotation whose
#   secret_id refers to it (by known value or by reference in the same module instance).
# custom:
#   id: LZ-SEC-002
#   severity: medium
#   controls:
#     - PCI-DSS-3.6.4
package lz.rules.secrets.rotation

import data.lz.lib

deny contains f if {
	some s in lib.of_type("aws_secretsmanager_secret")
	not _rotated(s)
	f := lib.finding(s.address, "secret has no aws_secretsmanager_secret_rotation")
}

_rotated(s) if {
	some r in lib.of_type("aws_secretsmanager_secret_rotation")
	lib.linked(r, "secret_id", s)
}
