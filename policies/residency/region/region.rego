# METADATA
# title: Data stays in the allowed regions
# description: >-
#   The plan's region variable is one of allowed_regions (eu-west-1 and eu-west-2 by
#   default, configurable in governance/policy.toml); a plan without it is a finding.
# custom:
#   id: LZ-RES-001
#   severity: critical
#   controls:
#     - GDPR-Art44
#     - DORA-Art28
package lz.rules.residency.region

import data.lz.lib

_id := "LZ-RES-001"

_severity := "critical"

deny contains f if {
	region := input.variables.region.value
	not region in lib.settings.allowed_regions
	f := lib.finding(_id, _severity, "var.region", sprintf("region %v is not in the allowed regions %v", [region, lib.settings.allowed_regions]))
}

deny contains f if {
	not input.variables.region.value
	f := lib.finding(_id, _severity, "var.region", "the plan has no region variable")
}
