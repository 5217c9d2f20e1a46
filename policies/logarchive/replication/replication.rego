# METADATA
# title: The log archive is replicated to a second allowed region
# description: >-
#   Every log archive bucket that is not itself a replica replicates (an Enabled rule of
#   aws_s3_bucket_replication_configuration, or the provider v3 inline
#   replication_configuration) to another log archive bucket of the plan, in a region that
#   differs from the source's and is one of allowed_regions. A region that cannot be known
#   from the plan (no region argument and no region variable) is unverifiable.
# custom:
#   id: LZ-LA-003
#   severity: high
#   remediation: >-
#     Add an aws_s3_bucket_replication_configuration to a replica bucket in the second allowed
#     region (the log-archive module's replica_region)
#   controls:
#     - DORA-Art12
#     - NIST-800-53-CP-9
#     - GDPR-Art44
package lz.rules.logarchive.replication

import data.lz.lib

# [source bucket, configuration address, destination bucket ARN] of every enabled rule.
_rules contains [b, c.address, dest] if {
	some c in lib.of_type("aws_s3_bucket_replication_configuration")
	some b in lib.linked_to(c, "bucket", "aws_s3_bucket")
	b in lib.archive_buckets
	some r in lib.arr(lib.val(c, ["rule"]))
	object.get(r, "status", "") == "Enabled"
	some d in lib.arr(object.get(r, "destination", []))
	dest := object.get(d, "bucket", null)
}

_rules contains [b, b.address, dest] if {
	some b in lib.archive_buckets
	some rc in lib.blocks(b, ["replication_configuration"])
	some r in lib.arr(object.get(rc, "rules", []))
	object.get(r, "status", "") == "Enabled"
	some d in lib.arr(object.get(r, "destination", []))
	dest := object.get(d, "bucket", null)
}

# The archive bucket whose name ends the destination ARN after ":::".
_destination(dest) := d if {
	is_string(dest)
	some i in indexof_n(dest, ":::")
	some d in _archive_by_name[substring(dest, i + 3, -1)]
}

_archive_by_name[n] contains d if {
	some d in lib.archive_buckets
	lib.present(d, ["bucket"])
	n := lib.str(lib.val(d, ["bucket"]))
}

# Source buckets with a replication rule, computed once per evaluation.
_sources := {x[0] | some x in _rules}

_replicas := {d.address | some [_, _, dest] in _rules; d := _destination(dest)}

deny contains f if {
	some b in lib.archive_buckets
	not b.address in _replicas
	not b in _sources
	not lib.maybe_linked("aws_s3_bucket_replication_configuration", "bucket", b)
	f := lib.finding(b.address, "log archive bucket is not replicated to a second region")
}

deny contains f if {
	some b in lib.archive_buckets
	not b.address in _replicas
	not b in _sources
	lib.maybe_linked("aws_s3_bucket_replication_configuration", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_replication_configuration")
}

deny contains f if {
	some [b, address, dest] in _rules
	is_string(dest)
	not _destination(dest)
	f := lib.finding(address, sprintf("replication destination %s is not a log archive bucket of the plan", [dest]))
}

deny contains f if {
	some [b, address, dest] in _rules
	d := _destination(dest)
	lib.region_of(d) == lib.region_of(b)
	f := lib.finding(address, sprintf("replica %s is in the archive's own region %s", [d.address, lib.region_of(d)]))
}

deny contains f if {
	some [b, address, dest] in _rules
	d := _destination(dest)
	not lib.region_of(d) in lib.settings.allowed_regions
	lib.region_of(d)
	f := lib.finding(address, sprintf("replica %s is in region %s, outside the allowed regions %v", [d.address, lib.region_of(d), lib.settings.allowed_regions]))
}

deny contains f if {
	some [b, address, dest] in _rules
	d := _destination(dest)
	not lib.region_of(d)
	f := lib.unverifiable(address, "the replica's region")
}

deny contains f if {
	some [b, address, dest] in _rules
	not is_string(dest)
	f := lib.unverifiable(address, "destination.bucket")
}
