# METADATA
# title: CloudTrail trails are multi-region
# description: Every trail records all regions (is_multi_region_trail = true).
# custom:
#   id: LZ-CT-001
#   severity: high
#   controls:
#     - CIS-AWS-3.1
package lz.rules.cloudtrail.multi_region

import data.lz.lib

_id := "LZ-CT-001"

_severity := "high"

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	not lib.unknown(t, ["is_multi_region_trail"])
	lib.val(t, ["is_multi_region_trail"]) != true
	f := lib.finding(_id, _severity, t.address, "is_multi_region_trail is not true")
}

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	lib.unknown(t, ["is_multi_region_trail"])
	f := lib.unverifiable(_id, t.address, "is_multi_region_trail")
}
