package lz.rules.s3.access_logging

import data.lz.testing as t

_archive := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-prod-log-archive-1"})

_state := t.rc("aws_s3_bucket", "state", {"bucket": "lz-prod-tfstate-1"})

_logging(name, bucket, target) := t.rc("aws_s3_bucket_logging", name, {"bucket": bucket, "target_bucket": target, "target_prefix": "s3/"})

test_logged_buckets_pass if {
	plan := t.plan([_archive, _state, _logging("archive", "lz-prod-log-archive-1", "lz-prod-access-logs-1"), _logging("state", "lz-prod-tfstate-1", "lz-prod-access-logs-1")])
	count(deny) == 0 with input as plan
}

test_unlogged_buckets_denied if {
	fs := deny with input as t.plan([_archive, _state, t.rc("aws_s3_bucket", "other", {"bucket": "trading-data"})])
	{f.address | some f in fs} == {"aws_s3_bucket.archive", "aws_s3_bucket.state"}
}

test_state_bucket_by_module_denied if {
	b := t.rcm("state_backend", "aws_s3_bucket", "this", {"bucket": "x"}, {})
	fs := deny with input as t.plan([b])
	{f.message | some f in fs} == {"Terraform state bucket has no server access logging"}
}

test_logging_into_itself_denied if {
	fs := deny with input as t.plan([_archive, _logging("archive", "lz-prod-log-archive-1", "lz-prod-log-archive-1")])
	{f.address | some f in fs} == {"aws_s3_bucket_logging.archive"}
}

test_inline_v3_logging_passes if {
	b := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-log-archive", "logging": [{"target_bucket": "lz-access-logs", "target_prefix": "s3/"}]})
	count(deny) == 0 with input as t.plan([b])
}

test_no_configuration_unverifiable if {
	b := t.rcu("aws_s3_bucket", "archive", {"tags": {"Purpose": "log-archive"}}, {"bucket": true})
	l := t.rcu("aws_s3_bucket_logging", "archive", {"target_bucket": "lz-access-logs"}, {"bucket": true})
	fs := deny with input as t.plan([b, l])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}
