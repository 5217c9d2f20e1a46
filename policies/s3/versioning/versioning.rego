# METADATA
# title: S3 versioning is enabled
# description: Every bucket has a versioning configuration with status Enabled.
# custom:
#   id: LZ-S3-003
#   severity: medium
#   remediation: >-
#     Add an aws_s3_bucket_versioning with status Enabled
#   controls:
#     - CIS-AWS-2.1.3
#     - DORA-Art12
package lz.rules.s3.versioning

import data.lz.lib

_path := ["versioning_configuration", 0, "status"]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_versioning(b)
	count(lib.blocks(b, ["versioning"])) == 0
	not lib.maybe_linked("aws_s3_bucket_versioning", "bucket", b)
	f := lib.finding(b.address, "bucket has no versioning configuration")
}

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_versioning(b)
	count(lib.blocks(b, ["versioning"])) == 0
	lib.maybe_linked("aws_s3_bucket_versioning", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_versioning")
}

# Provider v3 inline block: versioning { enabled = true }.
deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_versioning(b)
	some v in lib.blocks(b, ["versioning"])
	object.get(v, "enabled", null) != true
	f := lib.finding(b.address, sprintf("inline versioning enabled is %v, not true", [object.get(v, "enabled", null)]))
}

deny contains f if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	not lib.unknown(v, _path)
	lib.val(v, _path) != lib.required("aws_s3_bucket_versioning", _path)
	f := lib.finding(v.address, sprintf("versioning status is %v, not Enabled", [lib.val(v, _path)]))
}

deny contains f if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	lib.unknown(v, _path)
	f := lib.unverifiable(v.address, "versioning_configuration.status")
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains b.address if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	some b in lib.linked_to(v, "bucket", "aws_s3_bucket")
}

_has_versioning(b) if b.address in _linked_targets
