package lz.rules.cloudtrail.global_events

import data.lz.testing as t

test_true_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudtrail", "org", {"include_global_service_events": true})])
}

test_false_or_missing_denied if {
	fs := deny with input as t.plan([t.rc("aws_cloudtrail", "a", {"include_global_service_events": false}), t.rc("aws_cloudtrail", "b", {})])
	{f.address | some f in fs} == {"aws_cloudtrail.a", "aws_cloudtrail.b"}
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_cloudtrail", "org", {}, {"include_global_service_events": true})])
	startswith(f.message, "unverifiable:")
}
