# METADATA
# title: CloudTrail logs are encrypted with KMS
# description: >-
#   Every trail sets kms_key_id to a known key ARN or alias, or to an expression that
#   references an aws_kms_key (directly or through module variables and outputs).
# custom:
#   id: LZ-CT-003
#   severity: high
#   remediation: >-
#     Set kms_key_id on the aws_cloudtrail resource to the logs key (module.kms["logs"].arn)
#   controls:
#     - CIS-AWS-3.5
package lz.rules.cloudtrail.encryption

import data.lz.lib

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	not lib.unknown(t, ["kms_key_id"])
	not lib.present(t, ["kms_key_id"])
	f := lib.finding(t.address, "trail has no KMS key (kms_key_id)")
}

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	lib.unverifiable_ref(t, ["kms_key_id"], "aws_kms_key")
	f := lib.unverifiable(t.address, "kms_key_id")
}
