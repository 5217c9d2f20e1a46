package lz.rules.iam.session_duration

import data.lz.testing as t

test_short_sessions_pass if {
	count(deny) == 0 with input as t.plan([
		t.rc("aws_iam_role", "d", {"name": "lz-prod-deployer", "max_session_duration": 3600}),
		t.rc("aws_iam_role", "b", {"name": "x", "tags": {"Role": "break-glass"}}),
		t.rc("aws_iam_role", "o", {"name": "lz-reader", "max_session_duration": 43200}),
	])
}

test_long_break_glass_session_denied if {
	fs := deny with input as t.plan([t.rc("aws_iam_role", "b", {"name": "lz-breakglass", "max_session_duration": 7200})])
	{f.message | some f in fs} == {"break-glass role max_session_duration is 7200, above 3600"}
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_iam_role", "d", {"tags": {"Role": "deployer"}}, {"max_session_duration": true})])
	startswith(f.message, "unverifiable:")
}
