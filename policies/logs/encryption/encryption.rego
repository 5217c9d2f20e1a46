# METADATA
# title: CloudWatch log groups are encrypted with KMS
# description: >-
#   Every aws_cloudwatch_log_group sets kms_key_id to a known key ARN or to an expression
#   referencing an aws_kms_key (directly or through module variables and outputs).
# custom:
#   id: LZ-LOG-001
#   severity: high
#   remediation: >-
#     Set kms_key_id on the aws_cloudwatch_log_group to the logs key
#   controls:
#     - DORA-Art9-4d
package lz.rules.logs.encryption

import data.lz.lib

deny contains f if {
	some g in lib.of_type("aws_cloudwatch_log_group")
	not lib.unknown(g, ["kms_key_id"])
	not lib.present(g, ["kms_key_id"])
	f := lib.finding(g.address, "log group has no KMS key (kms_key_id)")
}

deny contains f if {
	some g in lib.of_type("aws_cloudwatch_log_group")
	lib.unverifiable_ref(g, ["kms_key_id"], "aws_kms_key")
	f := lib.unverifiable(g.address, "kms_key_id")
}
