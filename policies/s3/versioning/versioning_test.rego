package lz.rules.s3.versioning

import data.lz.testing as t

_bucket := t.rc("aws_s3_bucket", "b", {"bucket": "lz-b"})

_versioning(status) := t.rc("aws_s3_bucket_versioning", "b", {"bucket": "lz-b", "versioning_configuration": [{"status": status}]})

test_enabled_passes if {
	count(deny) == 0 with input as t.plan([_bucket, _versioning("Enabled")])
}

test_suspended_denied if {
	fs := deny with input as t.plan([_bucket, _versioning("Suspended")])
	{f.address | some f in fs} == {"aws_s3_bucket_versioning.b"}
}

test_missing_denied if {
	fs := deny with input as t.plan([_bucket])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_unknown_status_unverifiable if {
	v := t.rcu("aws_s3_bucket_versioning", "b", {"bucket": "lz-b"}, {"versioning_configuration": true})
	some f in deny with input as t.plan([_bucket, v])
	startswith(f.message, "unverifiable:")
}

test_linked_by_reference if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true, "id": true})
	v := t.rcu("aws_s3_bucket_versioning", "b", {"versioning_configuration": [{"status": "Enabled"}]}, {"bucket": true})
	plan := t.plan_cfg([b, v], [t.cfg("aws_s3_bucket_versioning", "b", {"bucket": t.ref(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])})])
	count(deny) == 0 with input as plan
}
