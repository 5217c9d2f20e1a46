package lz.rules.logs.encryption

import data.lz.testing as t

test_key_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudwatch_log_group", "g", {"kms_key_id": "arn:aws:kms:eu-west-2:111111111111:key/abc"})])
}

test_no_key_denied if {
	fs := deny with input as t.plan([t.rc("aws_cloudwatch_log_group", "g", {"retention_in_days": 365})])
	{f.address | some f in fs} == {"aws_cloudwatch_log_group.g"}
}

test_unknown_key_unverifiable_unless_traced if {
	g := t.rcu("aws_cloudwatch_log_group", "g", {}, {"kms_key_id": true})
	some f in deny with input as t.plan([g])
	startswith(f.message, "unverifiable:")
	count(deny) == 0 with input as t.plan_cfg([g], [t.cfg("aws_cloudwatch_log_group", "g", {"kms_key_id": t.ref(["aws_kms_key.logs.arn", "aws_kms_key.logs"])})])
}
