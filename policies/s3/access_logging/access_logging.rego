# METADATA
# title: Log archive and state buckets have server access logging
# description: >-
#   Every log archive bucket and every Terraform state bucket sends S3 server access logs
#   (aws_s3_bucket_logging, or the provider v3 inline logging block) to another bucket:
#   CloudTrail records management events only, so without it reads of state and archived
#   logs are recorded nowhere. A logging resource whose bucket cannot be linked (no
#   configuration, or a reference through a local value) makes the bucket unverifiable.
# custom:
#   id: LZ-S3-005
#   severity: high
#   remediation: >-
#     Add an aws_s3_bucket_logging resource for the bucket pointing at the access-log bucket
#     (module.access_logs)
#   controls:
#     - CIS-AWS-3.6
#     - NIST-800-53-AU-2
#     - DORA-Art12
package lz.rules.s3.access_logging

import data.lz.lib

_subjects contains [b, "log archive"] if some b in lib.archive_buckets

_subjects contains [b, "Terraform state"] if some b in lib.state_buckets

deny contains f if {
	some [b, kind] in _subjects
	count(_logging_of(b)) == 0
	not lib.maybe_linked("aws_s3_bucket_logging", "bucket", b)
	f := lib.finding(b.address, sprintf("%s bucket has no server access logging", [kind]))
}

deny contains f if {
	some [b, _] in _subjects
	count(_logging_of(b)) == 0
	lib.maybe_linked("aws_s3_bucket_logging", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_logging")
}

deny contains f if {
	some [b, kind] in _subjects
	some [address, target] in _logging_of(b)
	target == lib.val(b, ["bucket"])
	f := lib.finding(address, sprintf("%s bucket logs its access into itself", [kind]))
}

# Computed once per evaluation: functions are not memoized.
_logging_by_bucket := {b.address: lib.access_logging(b) | some [b, _] in _subjects}

_logging_of(b) := _logging_by_bucket[b.address]
