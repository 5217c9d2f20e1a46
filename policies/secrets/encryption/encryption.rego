# METADATA
# title: Secrets are encrypted with a customer managed KMS key
# description: >-
#   Every aws_secretsmanager_secret sets kms_key_id to a known key ARN or alias, or to an
#   expression referencing an aws_kms_key (directly or through module variables and outputs).
# custom:
#   id: LZ-SEC-001
#   severity: high
#   remediation: >-
#     Set kms_key_id on the secret to the secrets key (module.kms["secrets"].arn)
#   controls:
#     - DORA-Art9-4d
package lz.rules.secrets.encryption

import data.lz.lib

deny contains f if {
	some s in lib.of_type("aws_secretsmanager_secret")
	not lib.unknown(s, ["kms_key_id"])
	not lib.present(s, ["kms_key_id"])
	f := lib.finding(s.address, "secret has no customer managed KMS key (kms_key_id)")
}

deny contains f if {
	some s in lib.of_type("aws_secretsmanager_secret")
	lib.unverifiable_ref(s, ["kms_key_id"], "aws_kms_key")
	f := lib.unverifiable(s.address, "kms_key_id")
}
