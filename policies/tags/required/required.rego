# METADATA
# title: Taggable resources carry the mandatory tags
# description: >-
#   Every taggable resource (its configuration sets a tags argument, its planned values or unknowns
#   hold a tags attribute, or its type is in taggable_types) has non-empty Owner, Environment,
#   DataClassification, CostCentre and ManagedBy tags in its own tags (provider default_tags
#   are not counted).
# custom:
#   id: LZ-TAG-001
#   severity: medium
#   remediation: >-
#     Add the missing tags to the resource's tags (the landing zone passes local.tags; a
#     service sets owner and cost_centre in its overlay entry)
#   controls:
#     - LZ-TAGGING-STANDARD
package lz.rules.tags.required

import data.lz.lib

_taggable(r) if lib.has_config_attr(r, "tags")

_taggable(r) if "tags" in object.keys(r.after)

_taggable(r) if "tags" in object.keys(r.unknown)

_taggable(r) if r.type in lib.settings.taggable_types

# Every taggable resource, computed once per evaluation (functions are not memoized) for the
# three rules below: [address, whether its tags are unknown until apply, the required tags
# it lacks (neither set nor unknown), the required tags unset but unknown until apply].
_tagged contains [r.address, u, absent, pending] if {
	some r in lib.resources
	_taggable(r)
	u := object.get(r.unknown, ["tags"], false) == true
	unknown := lib._obj(object.get(r.unknown, "tags", {}))
	tags := lib._obj(object.get(r.after, "tags", {}))
	given := {k | some k, v in tags; is_string(v); trim_space(v) != ""}
	missing := [k | some k in lib.settings.required_tags; not k in given]
	absent := [k | some k in missing; object.get(unknown, k, false) != true]
	pending := [k | some k in missing; object.get(unknown, k, false) == true]
}

deny contains f if {
	some [address, false, absent, _] in _tagged
	count(absent) > 0
	f := lib.finding(address, sprintf("missing tags: %s", [concat(", ", absent)]))
}

deny contains f if {
	some [address, false, _, pending] in _tagged
	some k in pending
	f := lib.unverifiable(address, sprintf("tags.%s", [k]))
}

deny contains f if {
	some [address, true, _, _] in _tagged
	f := lib.unverifiable(address, "tags")
}
