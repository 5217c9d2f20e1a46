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

deny contains f if {
	some r in lib.resources
	_taggable(r)
	not lib.unknown(r, ["tags"])
	missing := [k | some k in lib.settings.required_tags; not _has_tag(r, k); not lib.unknown(r, ["tags", k])]
	count(missing) > 0
	f := lib.finding(r.address, sprintf("missing tags: %s", [concat(", ", missing)]))
}

deny contains f if {
	some r in lib.resources
	_taggable(r)
	some k in lib.settings.required_tags
	not _has_tag(r, k)
	lib.unknown(r, ["tags", k])
	not lib.unknown(r, ["tags"])
	f := lib.unverifiable(r.address, sprintf("tags.%s", [k]))
}

deny contains f if {
	some r in lib.resources
	_taggable(r)
	lib.unknown(r, ["tags"])
	f := lib.unverifiable(r.address, "tags")
}

_has_tag(r, k) if {
	v := lib.tag(r, k)
	is_string(v)
	trim_space(v) != ""
}
