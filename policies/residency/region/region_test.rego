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

# A provider configured inside module.m with region = var.region; its resource names the
# configuration by the older key "m:aws". call: the module call's arguments.
_module_plan(call, module_vars, variables) := {
	"variables": variables,
	"configuration": {
		"provider_config": {"module.m:aws": {"name": "aws", "module_address": "module.m", "expressions": {"region": {"references": ["var.region"]}}}},
		"root_module": {
			"variables": {"aws_region": {"default": "eu-west-2"}},
			"module_calls": {"m": {"expressions": call, "module": {"variables": module_vars, "resources": [_res("aws_sqs_queue", "m:aws")]}}},
		},
	},
}

test_module_provider_region_from_root_variable_denied if {
	plan := _module_plan({"region": {"references": ["var.aws_region"]}}, {"region": {}}, {"aws_region": {"value": "us-west-2"}})
	fs := deny with input as plan
	{f.address | some f in fs} == {"provider module.m:aws"}
	some f in fs
	contains(f.message, "region us-west-2")
}

test_module_provider_region_from_root_default_passes if {
	plan := _module_plan({"region": {"references": ["var.aws_region"]}}, {"region": {}}, {})
	count(deny) == 0 with input as plan
}

test_module_provider_region_from_constant_argument_denied if {
	plan := _module_plan({"region": {"constant_value": "ap-south-1"}}, {"region": {}}, {})
	some f in deny with input as plan
	contains(f.message, "region ap-south-1 (provider module.m:aws)")
}

test_module_provider_region_from_module_default_passes if {
	count(deny) == 0 with input as _module_plan({}, {"region": {"default": "eu-west-1"}}, {})
}

test_module_provider_region_from_local_unverifiable if {
	plan := _module_plan({"region": {"references": ["local.r"]}}, {"region": {}}, {})
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
	f.address == "provider module.m:aws"
}

test_module_provider_key_without_module_address if {
	plan := object.union(
		_cfg({"module.m:aws": {"name": "aws", "expressions": {"region": {"references": ["var.region"]}}}}, []),
		{"configuration": {"root_module": {"module_calls": {"m": {"expressions": {"region": {"constant_value": "us-east-2"}}, "module": {"resources": [_res("aws_sqs_queue", "module.m:aws")]}}}}}},
	)
	some f in deny with input as plan
	contains(f.message, "region us-east-2")
}
