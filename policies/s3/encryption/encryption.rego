# METADATA
# title: S3 buckets are encrypted with SSE-KMS
# description: >-
#   Every bucket has a server-side encryption configuration whose default algorithm is
#   aws:kms (or aws:kms:dsse) with a KMS key.
# custom:
#   id: LZ-S3-001
#   severity: high
#   controls:
#     - CIS-AWS-2.1.1
#     - DORA-Art9-4d
package lz.rules.s3.encryption

import data.lz.lib

_id := "LZ-S3-001"

_severity := "high"

_kms_algorithms := {"aws:kms", "aws:kms:dsse"}

_default_path(i) := ["rule", i, "apply_server_side_encryption_by_default", 0]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_sse(b)
	f := lib.finding(_id, _severity, b.address, "bucket has no server-side encryption configuration")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["sse_algorithm"])
	not lib.unknown(c, path)
	not lib.val(c, path) in _kms_algorithms
	f := lib.finding(_id, _severity, c.address, sprintf("default encryption algorithm is %v, not aws:kms", [lib.val(c, path)]))
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["kms_master_key_id"])
	not lib.unknown(c, path)
	not lib.present(c, path)
	f := lib.finding(_id, _severity, c.address, "default encryption has no KMS key (kms_master_key_id)")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	some i, _ in lib.arr(lib.val(c, ["rule"]))
	path := array.concat(_default_path(i), ["kms_master_key_id"])
	lib.unverifiable_ref(c, path, "aws_kms_key")
	f := lib.unverifiable(_id, c.address, "kms_master_key_id")
}

deny contains f if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	count(object.get(c.after, "rule", [])) == 0
	not lib.unknown(c, ["rule"])
	f := lib.finding(_id, _severity, c.address, "encryption configuration has no rule")
}

_has_sse(b) if {
	some c in lib.of_type("aws_s3_bucket_server_side_encryption_configuration")
	lib.linked(c, "bucket", b)
}
