package lz.rules.s3.public_access

import data.lz.testing as t

_bucket := t.rc("aws_s3_bucket", "b", {"bucket": "lz-b"})

_block(v) := t.rc("aws_s3_bucket_public_access_block", "b", {
	"bucket": "lz-b",
	"block_public_acls": true,
	"block_public_policy": v,
	"ignore_public_acls": true,
	"restrict_public_buckets": true,
})

test_all_true_passes if {
	count(deny) == 0 with input as t.plan([_bucket, _block(true)])
}

test_false_flag_denied if {
	fs := deny with input as t.plan([_bucket, _block(false)])
	{f.message | some f in fs} == {"block_public_policy is not true"}
}

test_missing_block_denied if {
	fs := deny with input as t.plan([_bucket])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_unknown_flag_unverifiable if {
	p := t.rcu("aws_s3_bucket_public_access_block", "b", {"bucket": "lz-b", "block_public_acls": true, "ignore_public_acls": true, "restrict_public_buckets": true}, {"block_public_policy": true})
	fs := deny with input as t.plan([_bucket, p])
	{f.message | some f in fs} == {"unverifiable: block_public_policy is unknown until apply and is not traced to a resource of the required kind"}
}

test_no_configuration_unknown_bucket_unverifiable if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true})
	p := t.rcu("aws_s3_bucket_public_access_block", "p", {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}, {"bucket": true})
	fs := deny with input as t.plan([b, p])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}
