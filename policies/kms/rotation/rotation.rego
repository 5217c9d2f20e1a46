# METADATA
# title: KMS keys rotate automatically
# description: Every customer managed KMS key sets enable_key_rotation = true.
# custom:
#   id: LZ-KMS-001
#   severity: high
#   remediation: >-
#     Set enable_key_rotation = true on the key
#   controls:
#     - CIS-AWS-3.6
package lz.rules.kms.rotation

import data.lz.lib

deny contains f if {
	some k in lib.of_type("aws_kms_key")
	not lib.unknown(k, ["enable_key_rotation"])
	lib.val(k, ["enable_key_rotation"]) != lib.required("aws_kms_key", ["enable_key_rotation"])
	f := lib.finding(k.address, "key rotation is not enabled")
}

deny contains f if {
	some k in lib.of_type("aws_kms_key")
	lib.unknown(k, ["enable_key_rotation"])
	f := lib.unverifiable(k.address, "enable_key_rotation")
}
