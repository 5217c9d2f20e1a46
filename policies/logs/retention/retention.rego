# METADATA
# title: CloudWatch log groups keep logs for at least a year
# description: >-
#   Every aws_cloudwatch_log_group sets retention_in_days explicitly to at least
#   log_retention_days (365).
# custom:
#   id: LZ-LOG-002
#   severity: medium
#   remediation: >-
#     Set retention_in_days to 365 or more (log_retention_days in the environment's overlay)
#   controls:
#     - DORA-Art12
package lz.rules.logs.retention

import data.lz.lib

deny contains f if {
	some g in lib.of_type("aws_cloudwatch_log_group")
	not lib.unknown(g, ["retention_in_days"])
	not _long_enough(lib.val(g, ["retention_in_days"]))
	f := lib.finding(g.address, sprintf("retention_in_days is %v, below %v", [lib.val(g, ["retention_in_days"]), lib.settings.log_retention_days]))
}

deny contains f if {
	some g in lib.of_type("aws_cloudwatch_log_group")
	lib.unknown(g, ["retention_in_days"])
	f := lib.unverifiable(g.address, "retention_in_days")
}

_long_enough(d) if {
	is_number(d)
	d >= lib.settings.log_retention_days
}

# 0 is CloudWatch Logs' "never expire".
_long_enough(d) if d == 0
