# METADATA
# title: Log archive retention is at least six years in prod and preprod
# description: >-
#   In the environments listed in retention_environments (prod and preprod by default, from
#   the plan's environment variable) the log archive object lock default retention is at
#   least log_archive_retention_days (2190) days; years count as 365 days.
# custom:
#   id: LZ-LA-002
#   severity: critical
#   remediation: >-
#     Set log_archive_retention_days to at least 2190 (six years) in the prod and preprod
#     overlays
#   controls:
#     - SEC-17a-4(f)
#     - MiFID-II-Art16-7
package lz.rules.logarchive.retention

import data.lz.lib

_retention := ["rule", 0, "default_retention", 0]

deny contains f if {
	lib.environment in lib.settings.retention_environments
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	not lib.unknown(c, _retention)
	days := _days(lib.val(c, _retention))
	days < lib.settings.log_archive_retention_days
	f := lib.finding(c.address, sprintf("default retention is %v days, below %v in %s", [days, lib.settings.log_archive_retention_days, lib.environment]))
}

deny contains f if {
	lib.environment in lib.settings.retention_environments
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	lib.unknown(c, _retention)
	f := lib.unverifiable(c.address, "default_retention")
}

_days(r) := d if {
	d := object.get(r, "days", null)
	is_number(d)
} else := y * 365 if {
	y := object.get(r, "years", null)
	is_number(y)
} else := 0
