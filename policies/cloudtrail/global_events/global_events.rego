# METADATA
# title: CloudTrail records global service events
# description: Every trail records IAM, STS and other global service events (include_global_service_events = true, set explicitly).
# custom:
#   id: LZ-CT-004
#   severity: medium
#   remediation: >-
#     Set include_global_service_events = true on the trail
#   controls:
#     - CIS-AWS-3.1
package lz.rules.cloudtrail.global_events

import data.lz.lib

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	not lib.unknown(t, ["include_global_service_events"])
	lib.val(t, ["include_global_service_events"]) != lib.required("aws_cloudtrail", ["include_global_service_events"])
	f := lib.finding(t.address, "include_global_service_events is not true")
}

deny contains f if {
	some t in lib.of_type("aws_cloudtrail")
	lib.unknown(t, ["include_global_service_events"])
	f := lib.unverifiable(t.address, "include_global_service_events")
}
