# METADATA
# title: S3 buckets are encrypted with SSE-KMS
# description: >-
#   Every bucket has a server-side encryption configuration (a separate resource, or the
#   provider v3 inline block) whose default algorithm is aws:kms (or aws:kms:dsse) with a KMS
#   key. A server access log destination may use AES256 instead, the only default
#   encryption S3 log delivery writes to.
# custom:
#   id: LZ-S3-001
#   severity: high
#   remediation: >-
#     Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm aws:kms and
#     a KMS key (the s3-bucket module does this when given kms_key_arn)
#   controls:
#     - CIS-AWS-2.1.1
#     - DORA-Art9-4d
package lz.rules.s3.encryption

import data.lz.lib

_kms_algorithms := {"aws:kms", "aws:kms:dsse"}

_default_path(i) := ["rule", i, "apply_server_side_encryption_by_default", 0]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	count(_inline(b)) == 0
	not lib.maybe_linked("aws_s3_bucket_server_side_encryption_configuration", "bucket", b)
	f := lib.finding(b.address, "bucket has no server-side encryption configuration")
}

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	count(_inline(b)) == 0
	lib.maybe_linked("aws_s3_bucket_server_side_encryption_configuration", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_server_side_encryption_configuration")
}

# Provider v3 inline server_side_encryption_configuration { rule { ... } }.
_inline(b) := [d | some [_, d] in _inline_at(b)]

# Inline defaults with their path in the resource: [path, block].
_inline_at(b) := [[path, d] |
	some i, c in lib.blocks(b, ["server_side_encryption_configuration"])
	some j, r in lib.arr(object.get(c, "rule", []))
	some k, d in lib.arr(object.get(r, "apply_server_side_encryption_by_default", []))
	path := ["server_side_encryption_configuration", i, "rule", j, "apply_server_side_encryption_by_default", k]
]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	some d in _inline(b)
	not object.get(d, "sse_algorithm", null) in _kms_algorithms
	f := lib.finding(b.address, sprintf("inline default encryption algorithm is %v, not aws:kms", [object.get(d, "sse_algorithm", null)]))
}

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	some [path, d] in _inline_at(b)
	object.get(d, "sse_algorithm", null) in _kms_algorithms
	object.get(d, "kms_master_key_id", "") in {"", null}
	not lib.unknown(b, array.concat(path, ["kms_master_key_id"]))
	f := lib.finding(b.address, "inline default encryption has no KMS key (kms_master_key_id)")
}

# A key unknown until apply is fine when traced to an aws_kms_key; otherwise unverifiable.
deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	some [path, d] in _inline_at(b)
	object.get(d, "sse_algorithm", null) in _kms_algorithms
	lib.unverifiable_ref(b, array.concat(path, ["kms_master_key_id"]), "aws_kms_key")
	f := lib.unverifiable(b.address, "kms_master_key_id")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["sse_algorithm"])
	not lib.unknown(c, path)
	not lib.val(c, path) in _kms_algorithms
	not _sse_s3_log_target(c, lib.val(c, path))
	f := lib.finding(c.address, sprintf("default encryption algorithm is %v, not aws:kms", [lib.val(c, path)]))
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["kms_master_key_id"])
	not lib.unknown(c, path)
	not lib.present(c, path)
	not _sse_s3_log_target(c, lib.val(c, array.concat(_default_path(i), ["sse_algorithm"])))
	f := lib.finding(c.address, "default encryption has no KMS key (kms_master_key_id)")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["kms_master_key_id"])
	lib.unverifiable_ref(c, path, "aws_kms_key")
	f := lib.unverifiable(c.address, "kms_master_key_id")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	count(object.get(c.after, "rule", [])) == 0
	not lib.unknown(c, ["rule"])
	f := lib.finding(c.address, "encryption configuration has no rule")
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains b.address if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some b in lib.linked_to(c, "bucket", "aws_s3_bucket")
}

_has_sse(b) if b.address in _linked_targets

# S3 delivers server access logs only to buckets with SSE-S3 default encryption: AES256 is
# accepted on a bucket that is a server access log destination, and nowhere else.
_sse_s3_log_target(c, "AES256") if {
	some b in lib.linked_to(c, "bucket", "aws_s3_bucket")
	lib.access_log_target(b)
}
