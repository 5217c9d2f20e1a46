package lz.rules.logarchive.replication

import data.lz.testing as t

_archive := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-log-archive"})

_replica(region) := t.rc("aws_s3_bucket", "replica", {"bucket": "lz-log-archive-replica", "region": region})

_config(dest, status) := t.rc("aws_s3_bucket_replication_configuration", "this", {"bucket": "lz-log-archive", "rule": [{"status": status, "destination": [{"bucket": dest}]}]})

test_replicated_to_other_allowed_region_passes if {
	count(deny) == 0 with input as t.plan([_archive, _replica("eu-west-1"), _config("arn:aws:s3:::lz-log-archive-replica", "Enabled")])
}

test_not_replicated_denied if {
	fs := deny with input as t.plan([_archive])
	{f.address | some f in fs} == {"aws_s3_bucket.archive"}
}

test_disabled_rule_denied if {
	fs := deny with input as t.plan([_archive, _replica("eu-west-1"), _config("arn:aws:s3:::lz-log-archive-replica", "Disabled")])
	{f.address | some f in fs} == {"aws_s3_bucket.archive", "aws_s3_bucket.replica"}
}

test_same_region_denied if {
	fs := deny with input as t.plan([_archive, _replica("eu-west-2"), _config("arn:aws:s3:::lz-log-archive-replica", "Enabled")])
	some f in fs
	contains(f.message, "in the archive's own region eu-west-2")
}

test_region_outside_residency_denied if {
	fs := deny with input as t.plan([_archive, _replica("us-east-1"), _config("arn:aws:s3:::lz-log-archive-replica", "Enabled")])
	some f in fs
	contains(f.message, "region us-east-1, outside the allowed regions")
}

test_destination_outside_plan_denied if {
	fs := deny with input as t.plan([_archive, _config("arn:aws:s3:::somewhere-else", "Enabled")])
	some f in fs
	contains(f.message, "is not a log archive bucket of the plan")
}

test_unknown_region_unverifiable if {
	plan := {"variables": {}, "resource_changes": [_archive, _replica(null), _config("arn:aws:s3:::lz-log-archive-replica", "Enabled")]}
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
}

test_unknown_destination_unverifiable if {
	c := t.rcu("aws_s3_bucket_replication_configuration", "this", {"bucket": "lz-log-archive", "rule": [{"status": "Enabled", "destination": [{"bucket": null}]}]}, {"rule": [{"destination": [{"bucket": true}]}]})
	some f in deny with input as t.plan([_archive, c])
	startswith(f.message, "unverifiable:")
}

test_inline_v3_replication_passes if {
	b := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-log-archive", "replication_configuration": [{"role": "r", "rules": [{"status": "Enabled", "destination": [{"bucket": "arn:aws:s3:::lz-log-archive-replica"}]}]}]})
	count(deny) == 0 with input as t.plan([b, _replica("eu-west-1")])
}

test_no_configuration_unverifiable if {
	b := t.rcu("aws_s3_bucket", "archive", {"tags": {"Purpose": "log-archive"}}, {"bucket": true})
	c := t.rcu("aws_s3_bucket_replication_configuration", "this", {"rule": []}, {"bucket": true})
	fs := deny with input as t.plan([b, c])
	some f in fs
	startswith(f.message, "unverifiable:")
}
