package lz.rules.residency.region

import data.lz.testing as t

_cfg(providers, resources) := {"configuration": {"provider_config": providers, "root_module": {"resources": resources}}}

_res(type, key) := {"address": concat(".", [type, "x"]), "mode": "managed", "type": type, "name": "x", "provider_config_key": key}

test_allowed_region_passes if {
	count(deny) == 0 with input as t.plan([])
}

test_other_region_denied if {
	some f in deny with input as {"variables": {"region": {"value": "us-east-1"}}}
	f.message == `region us-east-1 (var.region) is not in the allowed regions ["eu-west-1", "eu-west-2"]`
}

test_configured_regions if {
	count(deny) == 0 with input as {"variables": {"region": {"value": "eu-central-1"}}} with data.lz.settings as {"allowed_regions": ["eu-central-1"]}
}

test_missing_region_unverifiable if {
	some f in deny with input as {"variables": {}}
	startswith(f.message, "unverifiable: the plan names no region")
}

test_provider_constant_region_denied if {
	plan := _cfg({"aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-west-2"}}}}, [_res("aws_s3_bucket", "aws")])
	fs := deny with input as plan
	{f.address | some f in fs} == {"provider aws"}
	some f in fs
	contains(f.message, "region us-west-2 (provider aws)")
}

test_provider_region_through_variable_denied if {
	plan := object.union(
		_cfg({"aws": {"name": "aws", "expressions": {"region": {"references": ["var.aws_region"]}}}}, [_res("aws_s3_bucket", "aws")]),
		{"variables": {"aws_region": {"value": "eu-central-1"}}},
	)
	some f in deny with input as plan
	contains(f.message, "region eu-central-1")
}

test_global_only_provider_passes if {
	plan := object.union(
		_cfg(
			{"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-2"}}}, "aws.us_east_1": {"name": "aws", "alias": "us_east_1", "expressions": {"region": {"constant_value": "us-east-1"}}}},
			[_res("aws_s3_bucket", "aws"), _res("aws_iam_role", "aws.us_east_1")],
		),
		{"variables": {"region": {"value": "eu-west-2"}}},
	)
	count(deny) == 0 with input as plan
}

test_regional_resource_on_alias_denied if {
	plan := _cfg(
		{"aws.us_east_1": {"name": "aws", "alias": "us_east_1", "expressions": {"region": {"constant_value": "us-east-1"}}}},
		[_res("aws_route53_resolver_endpoint", "aws.us_east_1")],
	)
	some f in deny with input as plan
	f.address == "provider aws.us_east_1"
}

test_resource_region_argument_denied if {
	b := t.rc("aws_s3_bucket", "b", {"bucket": "x", "region": "us-west-2"})
	fs := deny with input as t.plan([b])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_unresolvable_provider_region_unverifiable if {
	plan := _cfg({"aws": {"name": "aws", "expressions": {"region": {"references": ["local.region"]}}}}, [_res("aws_s3_bucket", "aws")])
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
	f.address == "provider aws"
}
