# Constructors for small plan documents used by the policy unit tests.
package lz.testing

rc(type, name, after) := {
	"address": sprintf("%s.%s", [type, name]),
	"mode": "managed",
	"type": type,
	"name": name,
	"change": {"actions": ["create"], "after": after, "after_unknown": {}},
}

# A resource whose attributes listed in unknown are unknown until apply.
rcu(type, name, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]),
	"mode": "managed",
	"type": type,
	"name": name,
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

# A resource inside module.<mod>.
rcm(mod, type, name, after, unknown) := {
	"address": sprintf("module.%s.%s.%s", [mod, type, name]),
	"module_address": sprintf("module.%s", [mod]),
	"mode": "managed",
	"type": type,
	"name": name,
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rcs) := plan_env(rcs, "prod")

plan_env(rcs, env) := {
	"variables": {"environment": {"value": env}, "region": {"value": "eu-west-2"}},
	"resource_changes": rcs,
}

# A plan whose root module configuration holds the given resource configurations.
plan_cfg(rcs, cfg) := object.union(plan(rcs), {"configuration": {"root_module": {"resources": cfg}}})

cfg(type, name, expressions) := {"address": sprintf("%s.%s", [type, name]), "mode": "managed", "type": type, "name": name, "expressions": expressions}

ref(refs) := {"references": refs}

tags := {"Owner": "o", "Environment": "prod", "DataClassification": "internal", "CostCentre": "cc", "ManagedBy": "terraform"}
