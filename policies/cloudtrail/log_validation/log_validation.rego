# METADATA
# title: CloudTrail log file validation is enabled
# description: Every trail enables log file integrity validation (enable_log_file_validation = true).
# custom:
#   id: LZ-CT-002
#   severity: high
#   remediation: >-
#     Set enable_log_file_validation = true on the trail
#   controls:
#     - CIS-AWS-3.2
package lz.rules.cloudtrail.log_validation

import data.lz.lib

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	not lib.unknown(t, ["enable_log_file_validation"])
	lib.val(t, ["enable_log_file_validation"]) != lib.required("aws_cloudtrail", ["enable_log_file_validation"])
	f := lib.finding(t.address, "enable_log_file_validation is not true")
}

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	lib.unknown(t, ["enable_log_file_validation"])
	f := lib.unverifiable(t.address, "enable_log_file_validation")
}
