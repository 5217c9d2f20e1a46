# METADATA
# title: Stateful resources are not destroyed or replaced
# description: >-
#   A planned delete or replace (actions containing delete) of a stateful resource type
#   (stateful_types: buckets, keys, log groups, secrets, state lock tables) is a finding
#   that needs an approved exception.
# custom:
#   id: LZ-CHG-001
#   severity: high
#   remediation: >-
#     Keep the resource (move it with a moved block instead of renaming), or set
#     prevent_destroy and migrate its data first; a deliberate deletion needs an approved
#     exception in governance/exceptions.toml
#   controls:
#     - LZ-CHANGE-STATEFUL
#     - DORA-Art9-4e
package lz.rules.change.stateful_delete

import data.lz.lib

deny contains f if {
	some rc in lib.arr(object.get(input, "resource_changes", []))
	rc.type in lib.settings.stateful_types
	"delete" in rc.change.actions
	kind := _kind(rc.change.actions)
	f := lib.finding(rc.address, sprintf("planned %s of stateful %s", [kind, rc.type]))
}

_kind(actions) := "replace" if "create" in actions

_kind(actions) := "delete" if not "create" in actions
