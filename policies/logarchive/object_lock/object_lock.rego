# METADATA
# title: Log archive buckets use object lock in COMPLIANCE mode
# description: >-
#   A log archive bucket (tag Purpose or Role = log-archive, a bucket name containing
#   log-archive, or a bucket inside a log_archive / log-archive module) has object lock
#   enabled and an object lock configuration whose default retention mode is COMPLIANCE.
# custom:
#   id: LZ-LA-001
#   severity: critical
#   remediation: >-
#     Give the log archive bucket an aws_s3_bucket_object_lock_configuration with mode
#     COMPLIANCE and a default retention
#   controls:
#     - SEC-17a-4(f)
#     - DORA-Art12
package lz.rules.logarchive.object_lock

import data.lz.lib

_mode := ["rule", 0, "default_retention", 0, "mode"]

deny contains f if {
	some b in lib.archive_buckets
	not lib.unknown(b, ["object_lock_enabled"])
	lib.val(b, ["object_lock_enabled"]) != true
	not _inline_enabled(b)
	f := lib.finding(b.address, "log archive bucket does not enable object lock")
}

deny contains f if {
	some b in lib.archive_buckets
	lib.unknown(b, ["object_lock_enabled"])
	not _inline_enabled(b)
	f := lib.unverifiable(b.address, "object_lock_enabled")
}

deny contains f if {
	some b in lib.archive_buckets
	count(lib.archive_lock_configs(b)) == 0
	count(_inline(b)) == 0
	not lib.maybe_linked("aws_s3_bucket_object_lock_configuration", "bucket", b)
	f := lib.finding(b.address, "log archive bucket has no object lock configuration")
}

deny contains f if {
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	not lib.unknown(c, _mode)
	lib.val(c, _mode) != lib.required("aws_s3_bucket_object_lock_configuration", _mode)
	f := lib.finding(c.address, sprintf("default retention mode is %v, not COMPLIANCE", [lib.val(c, _mode)]))
}

deny contains f if {
	some b in lib.archive_buckets
	some c in lib.archive_lock_configs(b)
	lib.unknown(c, _mode)
	f := lib.unverifiable(c.address, "default_retention.mode")
}

# Provider v3 inline object_lock_configuration { object_lock_enabled = "Enabled" rule {...} }.
_inline(b) := lib.blocks(b, ["object_lock_configuration"])

_inline_mode(b) := object.get(c, ["rule", 0, "default_retention", 0, "mode"], null) if {
	some c in _inline(b)
}

_inline_enabled(b) if {
	some c in _inline(b)
	object.get(c, "object_lock_enabled", null) == "Enabled"
}

deny contains f if {
	some b in lib.archive_buckets
	count(lib.archive_lock_configs(b)) == 0
	count(_inline(b)) == 0
	lib.maybe_linked("aws_s3_bucket_object_lock_configuration", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_object_lock_configuration")
}

deny contains f if {
	some b in lib.archive_buckets
	count(lib.archive_lock_configs(b)) == 0
	count(_inline(b)) > 0
	_inline_mode(b) != "COMPLIANCE"
	f := lib.finding(b.address, sprintf("inline default retention mode is %v, not COMPLIANCE", [_inline_mode(b)]))
}
