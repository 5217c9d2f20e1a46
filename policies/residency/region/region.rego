# METADATA
# title: Data stays in the allowed regions
# description: >-
#   Every region the plan deploys to is one of allowed_regions (eu-west-1 and eu-west-2 by
#   default, configurable in governance/policy.toml): the region of each AWS provider
#   configuration (a constant or a root variable it refers to) that manages regional
#   resources, the resource-level region argument (provider v6), and the root variable
#   region. A provider configuration used only by global services (IAM, Organizations,
#   Route 53, CloudFront) may name another region. A plan naming no region at all, or a
#   provider region that cannot be resolved, is unverifiable. Findings report the region
#   found and where.
# custom:
#   id: LZ-RES-001
#   severity: critical
#   controls:
#     - GDPR-Art44
#     - DORA-Art28
package lz.rules.residency.region

import data.lz.lib

_providers := lib._obj(object.get(lib._obj(input.configuration), "provider_config", {}))

_global_prefixes := ["aws_iam_", "aws_organizations_", "aws_route53_", "aws_cloudfront_", "aws_shield_", "aws_budgets_"]

_global(type) if {
	some p in _global_prefixes
	startswith(type, p)
	not startswith(type, "aws_route53_resolver_")
}

_config_resources contains c if {
	some m in lib._module_configs
	some c in lib.arr(object.get(m, "resources", []))
	object.get(c, "mode", "managed") == "managed"
}

_uses(c, k) if object.get(c, "provider_config_key", "") == k

_uses(c, k) if endswith(object.get(c, "provider_config_key", ""), concat("", [":", k]))

_regional(k) if {
	some c in _config_resources
	_uses(c, k)
	not _global(c.type)
}

_aws(k, p) if object.get(p, "name", "") == "aws"

_aws(k, _) if k == "aws"

_aws(k, _) if startswith(k, "aws.")

_region_expr(p) := object.get(p, ["expressions", "region"], null)

_resolve(e) := e.constant_value if {
	is_object(e)
	is_string(object.get(e, "constant_value", null))
}

_resolve(e) := v if {
	is_object(e)
	not is_string(object.get(e, "constant_value", null))
	some ref in lib.arr(object.get(e, "references", []))
	startswith(ref, "var.")
	v := object.get(input, ["variables", split(ref, ".")[1], "value"], null)
	is_string(v)
}

# [where, region]
_found contains [sprintf("provider %s", [k]), region] if {
	some k, p in _providers
	_aws(k, p)
	_regional(k)
	region := _resolve(_region_expr(p))
}

_found contains [r.address, region] if {
	some r in lib.resources
	startswith(r.type, "aws_")
	region := lib.val(r, ["region"])
	is_string(region)
	region != ""
}

_found contains ["var.region", region] if {
	region := object.get(input, ["variables", "region", "value"], null)
	is_string(region)
}

deny contains f if {
	some [where, region] in _found
	not region in lib.settings.allowed_regions
	f := lib.finding(where, sprintf("region %v (%s) is not in the allowed regions %v", [region, where, lib.settings.allowed_regions]))
}

deny contains f if {
	some k, p in _providers
	_aws(k, p)
	_regional(k)
	e := _region_expr(p)
	e != null
	not _resolve(e)
	f := lib.unverifiable(sprintf("provider %s", [k]), "the provider's region")
}

deny contains f if {
	count(_found) == 0
	f := lib.unverifiable_finding("var.region", "the plan names no region (provider configuration, resource region or region variable)")
}
