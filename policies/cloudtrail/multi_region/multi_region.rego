# METADATA
# title: CloudTrail trails are multi-region
# description: Every trail records all regions (is_multi_region_trail = true).
# custom:
#   id: LZ-CT-001
#   severity: high
#   remediation: >-
#     Set is_multi_region_trail = true on the trail
#   controls:
#     - CIS-AWS-3.1
package lz.rules.cloudtrail.multi_region

import data.lz.lib

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	not lib.unknown(t, ["is_multi_region_trail"])
	lib.val(t, ["is_multi_region_trail"]) != lib.required("aws_cloudtrail", ["is_multi_region_trail"])
	f := lib.finding(t.address, "is_multi_region_trail is not true")
}

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	lib.unknown(t, ["is_multi_region_trail"])
	f := lib.unverifiable(t.address, "is_multi_region_trail")
}
