# METADATA
# title: Secrets have a rotation schedule
# description: >-
#   Every aws_secretsmanager_secret has a rotation schedule: an aws_secretsmanager_secret_rotation
#   whose secret_id refers to it (by known value or by reference in the same module instance), or
#   the RotationDays tag the secrets module records for harness-driven rotation (`cargo xtask
#   rotate`), a whole number of days from 1 to 90. An unknown tag is unverifiable. That each
#   secret also has a verified rotation within its maximum age is judged from the evidence by the
#   gate's secret rotation step and `cargo xtask rotation status` (governance/rotation.toml).
# custom:
#   id: LZ-SEC-002
#   severity: medium
#   remediation: >-
#     Add an aws_secretsmanager_secret_rotation with a rotation Lambda and
#     automatically_after_days within the maximum age
#   controls:
#     - PCI-DSS-3.6.4
package lz.rules.secrets.rotation

import data.lz.lib

deny contains f if {
	some s in lib.of_type("aws_secretsmanager_secret")
	not _rotated(s)
	not _tag_unknown(s)
	not _scheduled(s)
	f := lib.finding(s.address, "secret has no rotation schedule: no aws_secretsmanager_secret_rotation and no RotationDays tag of 1 to 90 days")
}

deny contains f if {
	some s in lib.of_type("aws_secretsmanager_secret")
	not _rotated(s)
	_tag_unknown(s)
	f := lib.unverifiable(s.address, "tags.RotationDays")
}

_rotated(s) if s.address in _rotated_secrets

# Computed once per evaluation (functions are not memoized).
_rotated_secrets contains s.address if {
	some r in lib.of_type("aws_secretsmanager_secret_rotation")
	some s in lib.linked_to(r, "secret_id", "aws_secretsmanager_secret")
}

_tag_unknown(s) if lib.unknown(s, ["tags", "RotationDays"])

_scheduled(s) if {
	v := lib.tag(s, "RotationDays")
	regex.match(`^[0-9]{1,2}$`, v)
	d := to_number(v)
	d >= 1
	d <= 90
}
