package lz.rules.residency.region

import data.lz.testing as t

test_allowed_region_passes if {
	count(deny) == 0 with input as t.plan([])
}

test_other_region_denied if {
	some f in deny with input as {"variables": {"region": {"value": "us-east-1"}}}
	f.message == `region us-east-1 is not in the allowed regions ["eu-west-1", "eu-west-2"]`
}

test_configured_regions if {
	count(deny) == 0 with input as {"variables": {"region": {"value": "eu-central-1"}}} with data.lz.settings as {"allowed_regions": ["eu-central-1"]}
}

test_missing_region_denied if {
	some f in deny with input as {"variables": {}}
	f.message == "the plan has no region variable"
}
