package lz.rules.cloudtrail.multi_region

import data.lz.testing as t

test_true_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudtrail", "org", {"is_multi_region_trail": true})])
}

test_false_or_missing_denied if {
	fs := deny with input as t.plan([t.rc("aws_cloudtrail", "a", {"is_multi_region_trail": false}), t.rc("aws_cloudtrail", "b", {})])
	{f.address | some f in fs} == {"aws_cloudtrail.a", "aws_cloudtrail.b"}
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_cloudtrail", "org", {}, {"is_multi_region_trail": true})])
	startswith(f.message, "unverifiable:")
}
