# METADATA
# title: S3 versioning is enabled
# description: Every bucket has a versioning configuration with status Enabled.
# custom:
#   id: LZ-S3-003
#   severity: medium
#   controls:
#     - CIS-AWS-2.1.3
#     - DORA-Art12
package lz.rules.s3.versioning

import data.lz.lib

_id := "LZ-S3-003"

_severity := "medium"

_path := ["versioning_configuration", 0, "status"]

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_versioning(b)
	f := lib.finding(_id, _severity, b.address, "bucket has no versioning configuration")
}

deny contains f if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	not lib.unknown(v, _path)
	lib.val(v, _path) != "Enabled"
	f := lib.finding(_id, _severity, v.address, sprintf("versioning status is %v, not Enabled", [lib.val(v, _path)]))
}

deny contains f if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	lib.unknown(v, _path)
	f := lib.unverifiable(_id, v.address, "versioning_configuration.status")
}

_has_versioning(b) if {
	some v in lib.of_type("aws_s3_bucket_versioning")
	lib.linked(v, "bucket", b)
}
