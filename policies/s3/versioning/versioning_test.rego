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

test_inline_v3_enabled_passes if {
	b := t.rc("aws_s3_bucket", "b", {"bucket": "lz-b", "versioning": [{"enabled": true, "mfa_delete": false}]})
	count(deny) == 0 with input as t.plan([b])
}

test_inline_v3_disabled_denied if {
	b := t.rc("aws_s3_bucket", "b", {"bucket": "lz-b", "versioning": [{"enabled": false}]})
	fs := deny with input as t.plan([b])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
	some f in fs
	contains(f.message, "inline versioning")
}

test_computed_inline_block_needs_split_resource if {
	b := t.rcu("aws_s3_bucket", "b", {"bucket": "lz-b", "versioning": null}, {"versioning": true})
	fs := deny with input as t.plan([b])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_no_configuration_unknown_bucket_unverifiable if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true, "id": true})
	v := t.rcu("aws_s3_bucket_versioning", "v", {"versioning_configuration": [{"status": "Enabled"}]}, {"bucket": true})
	fs := deny with input as t.plan([b, v])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}

test_local_reference_unverifiable if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true, "id": true})
	v := t.rcu("aws_s3_bucket_versioning", "v", {"versioning_configuration": [{"status": "Enabled"}]}, {"bucket": true})
	plan := t.plan_cfg([b, v], [t.cfg("aws_s3_bucket_versioning", "v", {"bucket": t.ref(["local.bucket_id"])})])
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
}
