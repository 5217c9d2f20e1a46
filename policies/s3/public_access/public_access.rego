# METADATA
# title: S3 public access is blocked
# description: >-
#   Every bucket has a public access block with block_public_acls, block_public_policy,
#   ignore_public_acls and restrict_public_buckets all true.
# custom:
#   id: LZ-S3-002
#   severity: high
#   remediation: >-
#     Add an aws_s3_bucket_public_access_block with all four settings true
#   controls:
#     - CIS-AWS-2.1.4
package lz.rules.s3.public_access

import data.lz.lib

_flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_block(b)
	not lib.maybe_linked("aws_s3_bucket_public_access_block", "bucket", b)
	f := lib.finding(b.address, "bucket has no public access block")
}

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_block(b)
	lib.maybe_linked("aws_s3_bucket_public_access_block", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_public_access_block")
}

deny contains f if {
	some p in lib.of_type("aws_s3_bucket_public_access_block")
	some flag in _flags
	not lib.unknown(p, [flag])
	lib.val(p, [flag]) != lib.required("aws_s3_bucket_public_access_block", [flag])
	f := lib.finding(p.address, sprintf("%s is not true", [flag]))
}

deny contains f if {
	some p in lib.of_type("aws_s3_bucket_public_access_block")
	some flag in _flags
	lib.unknown(p, [flag])
	f := lib.unverifiable(p.address, flag)
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains b.address if {
	some p in lib.of_type("aws_s3_bucket_public_access_block")
	some b in lib.linked_to(p, "bucket", "aws_s3_bucket")
}

_has_block(b) if b.address in _linked_targets
