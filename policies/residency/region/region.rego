# METADATA
# title: Data stays in the allowed regions
# description: >-
#   Every region the plan deploys to is one of allowed_regions (eu-west-1 and eu-west-2 by
#   default, configurable in governance/policy.toml): the region of each AWS provider
#   configuration (a constant, or a variable it refers to: a root variable's value or
#   default; in a module, the calling argument or the variable's default) that manages regional
#   resources, the resource-level region argument (provider v6), and the root variable
#   region. A provider configuration used only by global services (IAM, Organizations,
#   Route 53, CloudFront) may name another region. A plan naming no region at all, or a
#   provider region that cannot be resolved, is unverifiable. Findings report the region
#   found and where.
# custom:
#   id: LZ-RES-001
#   severity: critical
#   remediation: >-
#     Set the provider's region (or the region variable in the overlay) to an allowed region
#     of governance/policy.toml
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

# Keys of a provider configuration in a module name it "module.a:aws" or, in older plans,
# "a:aws" (resources of Terraform 0.12-1.0 plans use the second form for the first).
_uses(c, k) if {
	contains(k, ":")
	_norm_key(object.get(c, "provider_config_key", "")) == _norm_key(k)
}

_norm_key(k) := concat(":", [concat(".", [n | some n in split(lib._strip(split(k, ":")[0]), "."); n != "module"]), split(k, ":")[1]]) if contains(k, ":")

_regional(k) if {
	some c in _config_resources
	_uses(c, k)
	not _global(c.type)
}

_aws(k, p) if object.get(p, "name", "") == "aws"

_aws(k, _) if k == "aws"

_aws(k, _) if startswith(k, "aws.")

_region_expr(p) := object.get(p, ["expressions", "region"], null)

_resolve(e, _) := e.constant_value if {
	is_object(e)
	is_string(object.get(e, "constant_value", null))
}

_resolve(e, m) := v if {
	is_object(e)
	not is_string(object.get(e, "constant_value", null))
	some ref in lib.arr(object.get(e, "references", []))
	startswith(ref, "var.")
	v := _var_in(m, split(ref, ".")[1])
}

# The value of variable name of the module at path m (module names): a root variable from
# the plan's variables (else its default); a module variable from the calling argument (a
# constant or a root variable), else its default. Deeper chains stay unresolved.
_var_in(m, name) := v if {
	count(m) == 0
	v := _root_var(name)
}

_var_in(m, name) := v if {
	count(m) > 0
	arg := object.get(_call_of(m), ["expressions", name], null)
	v := _arg_value(arg, array.slice(m, 0, count(m) - 1))
}

_var_in(m, name) := v if {
	count(m) > 0
	object.get(_call_of(m), ["expressions", name], null) == null
	v := object.get(lib.module_config(m), ["variables", name, "default"], null)
	is_string(v)
}

_call_of(m) := object.get(lib.module_config(array.slice(m, 0, count(m) - 1)), ["module_calls", m[count(m) - 1]], {})

_arg_value(arg, _) := arg.constant_value if {
	is_object(arg)
	is_string(object.get(arg, "constant_value", null))
}

_arg_value(arg, parent) := v if {
	is_object(arg)
	count(parent) == 0
	some ref in lib.arr(object.get(arg, "references", []))
	startswith(ref, "var.")
	v := _root_var(split(ref, ".")[1])
}

_root_var(name) := v if {
	v := object.get(input, ["variables", name, "value"], null)
	is_string(v)
}

_root_var(name) := v if {
	not is_string(object.get(input, ["variables", name, "value"], null))
	v := object.get(lib._obj(input.configuration), ["root_module", "variables", name, "default"], null)
	is_string(v)
}

# Module names of a provider configuration: from module_address, else from its key.
_modules_of(_, p) := lib.module_names(p.module_address) if is_string(object.get(p, "module_address", null))

_modules_of(k, p) := [n | some n in split(lib._strip(split(k, ":")[0]), "."); n != "module"] if {
	not is_string(object.get(p, "module_address", null))
	contains(k, ":")
}

_modules_of(k, p) := [] if {
	not is_string(object.get(p, "module_address", null))
	not contains(k, ":")
}

# [where, region]
_found contains [sprintf("provider %s", [k]), region] if {
	some k, p in _providers
	_aws(k, p)
	_regional(k)
	region := _resolve(_region_expr(p), _modules_of(k, p))
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
	not _resolve(e, _modules_of(k, p))
	f := lib.unverifiable(sprintf("provider %s", [k]), "the provider's region")
}

deny contains f if {
	count(_found) == 0
	f := lib.unverifiable_finding("var.region", "the plan names no region (provider configuration, resource region or region variable)")
}
