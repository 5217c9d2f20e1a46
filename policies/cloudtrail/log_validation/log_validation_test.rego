package lz.rules.cloudtrail.log_validation

import data.lz.testing as t

test_true_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudtrail", "org", {"enable_log_file_validation": true})])
}

test_false_or_missing_denied if {
	fs := deny with input as t.plan([t.rc("aws_cloudtrail", "a", {"enable_log_file_validation": false}), t.rc("aws_cloudtrail", "b", {})])
	{f.address | some f in fs} == {"aws_cloudtrail.a", "aws_cloudtrail.b"}
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_cloudtrail", "org", {}, {"enable_log_file_validation": true})])
	startswith(f.message, "unverifiable:")
}
