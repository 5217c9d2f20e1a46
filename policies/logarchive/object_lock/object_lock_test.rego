package lz.rules.logarchive.object_lock

import data.lz.testing as t

_bucket(lock) := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-prod-log-archive", "object_lock_enabled": lock})

_lock(mode) := t.rc("aws_s3_bucket_object_lock_configuration", "archive", {
	"bucket": "lz-prod-log-archive",
	"rule": [{"default_retention": [{"mode": mode, "days": 2190}]}],
})

_messages(plan) := {f.message | some f in deny with input as plan}

test_compliance_lock_passes if {
	count(deny) == 0 with input as t.plan([_bucket(true), _lock("COMPLIANCE")])
}

test_governance_mode_denied if {
	_messages(t.plan([_bucket(true), _lock("GOVERNANCE")])) == {"default retention mode is GOVERNANCE, not COMPLIANCE"}
}

test_lock_disabled_and_missing_config_denied if {
	_messages(t.plan([_bucket(false)])) == {"log archive bucket does not enable object lock", "log archive bucket has no object lock configuration"}
}

test_other_buckets_ignored if {
	b := t.rc("aws_s3_bucket", "data", {"bucket": "lz-data"})
	count(deny) == 0 with input as t.plan([b])
}

test_archive_by_tag_and_module if {
	b1 := t.rc("aws_s3_bucket", "x", {"bucket": "x", "tags": {"Purpose": "log-archive"}, "object_lock_enabled": true})
	b2 := t.rcm("log_archive", "aws_s3_bucket", "this", {"bucket": "y", "object_lock_enabled": true}, {})
	{f.address | some f in deny with input as t.plan([b1, b2])} == {"aws_s3_bucket.x", "module.log_archive.aws_s3_bucket.this"}
}

test_unknowns_unverifiable if {
	b := t.rcu("aws_s3_bucket", "archive", {"bucket": "lz-prod-log-archive"}, {"object_lock_enabled": true})
	c := t.rcu("aws_s3_bucket_object_lock_configuration", "archive", {"bucket": "lz-prod-log-archive"}, {"rule": true})
	fs := deny with input as t.plan([b, c])
	count(fs) == 2
	every f in fs {
		startswith(f.message, "unverifiable:")
	}
}

_v3_archive(mode) := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-log-archive", "object_lock_configuration": [{"object_lock_enabled": "Enabled", "rule": [{"default_retention": [{"mode": mode, "days": 2190}]}]}]})

test_inline_v3_compliance_passes if {
	count(deny) == 0 with input as t.plan([_v3_archive("COMPLIANCE")])
}

test_inline_v3_governance_denied if {
	fs := deny with input as t.plan([_v3_archive("GOVERNANCE")])
	some f in fs
	contains(f.message, "inline default retention mode is GOVERNANCE")
}

test_no_configuration_lock_config_unverifiable if {
	b := t.rcu("aws_s3_bucket", "archive", {"bucket": "lz-log-archive", "object_lock_enabled": true}, {"id": true})
	c := t.rcu("aws_s3_bucket_object_lock_configuration", "c", {"rule": [{"default_retention": [{"mode": "COMPLIANCE", "days": 2190}]}]}, {"bucket": true})
	fs := deny with input as t.plan([b, c])
	{f.address | some f in fs} == {"aws_s3_bucket.archive"}
	some f in fs
	startswith(f.message, "unverifiable:")
}
