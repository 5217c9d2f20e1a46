# METADATA
# title: Log archive buckets use object lock in COMPLIANCE mode
# description: >-
#   A log archive bucket (tag Purpose or Role = log-archive, a bucket name containing
#   log-archive, or a bucket inside a log_archive / log-archive module) has object lock
#   enabled and an object lock configuration whose default retention mode is COMPLIANCE.
# custom:
#   id: LZ-LA-001
#   severity: critical
#   controls:
#     - SEC-17a-4(f)
#     - DORA-Art12
package lz.rules.logarchive.object_lock

import data.lz.lib

_id := "LZ-LA-001"

_severity := "critical"

_mode := ["rule", 0, "default_retention", 0, "mode"]

deny contains f if {
	some b in lib.archive_buckets
	not lib.unknown(b, ["object_lock_enabled"])
	lib.val(b, ["object_lock_enabled"]) != true
	f := lib.finding(_id, _severity, b.address, "log archive bucket does not enable object lock")
}

deny contains f if {
	some b in lib.archive_buckets
	lib.unknown(b, ["object_lock_enabled"])
	f := lib.unverifiable(_id, b.address, "object_lock_enabled")
}

deny contains f if {
	some b in lib.archive_buckets
	count(lib.archive_lock_configs(b)) == 0
	f := lib.finding(_id, _severity, b.address, "log archive bucket has no object lock configuration")
}

deny contains f if {
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	not lib.unknown(c, _mode)
	lib.val(c, _mode) != "COMPLIANCE"
	f := lib.finding(_id, _severity, c.address, sprintf("default retention mode is %v, not COMPLIANCE", [lib.val(c, _mode)]))
}

deny contains f if {
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	lib.unknown(c, _mode)
	f := lib.unverifiable(_id, c.address, "default_retention.mode")
}
