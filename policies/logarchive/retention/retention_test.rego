package lz.rules.logarchive.retention

import data.lz.testing as t

_bucket := t.rc("aws_s3_bucket", "archive", {"bucket": "lz-log-archive", "object_lock_enabled": true})

_lock(retention) := t.rc("aws_s3_bucket_object_lock_configuration", "archive", {
	"bucket": "lz-log-archive",
	"rule": [{"default_retention": [object.union({"mode": "COMPLIANCE"}, retention)]}],
})

test_six_years_passes_in_prod if {
	count(deny) == 0 with input as t.plan([_bucket, _lock({"days": 2190})])
	count(deny) == 0 with input as t.plan([_bucket, _lock({"years": 6})])
}

test_short_retention_denied_in_prod_and_preprod if {
	some f in deny with input as t.plan([_bucket, _lock({"days": 365})])
	f.address == "aws_s3_bucket_object_lock_configuration.archive"
	some g in deny with input as t.plan_env([_bucket, _lock({"years": 1})], "preprod")
	g.message == "default retention is 365 days, below 2190 in preprod"
}

test_missing_retention_denied if {
	some f in deny with input as t.plan([_bucket, _lock({})])
	contains(f.message, "0 days")
}

test_short_retention_allowed_in_dev if {
	count(deny) == 0 with input as t.plan_env([_bucket, _lock({"days": 30})], "dev")
}

test_unknown_retention_unverifiable if {
	c := t.rcu("aws_s3_bucket_object_lock_configuration", "archive", {"bucket": "lz-log-archive", "rule": [{}]}, {"rule": [{"default_retention": true}]})
	some f in deny with input as t.plan([_bucket, c])
	startswith(f.message, "unverifiable:")
}
