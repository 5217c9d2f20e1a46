package lz.rules.logs.retention

import data.lz.testing as t

test_year_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudwatch_log_group", "g", {"retention_in_days": 400})])
}

test_short_or_unset_denied if {
	fs := deny with input as t.plan([t.rc("aws_cloudwatch_log_group", "a", {"retention_in_days": 30}), t.rc("aws_cloudwatch_log_group", "b", {})])
	{f.message | some f in fs} == {"retention_in_days is 30, below 365", "retention_in_days is null, below 365"}
}

test_configured_floor if {
	count(deny) == 1 with input as t.plan([t.rc("aws_cloudwatch_log_group", "g", {"retention_in_days": 400})]) with data.lz.settings as {"log_retention_days": 731}
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_cloudwatch_log_group", "g", {}, {"retention_in_days": true})])
	startswith(f.message, "unverifiable:")
}

test_zero_never_expires_passes if {
	g := t.rc("aws_cloudwatch_log_group", "g", {"retention_in_days": 0})
	count(deny) == 0 with input as t.plan([g])
}
