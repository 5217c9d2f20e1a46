package lz.rules.kms.deletion_window

import data.lz.testing as t

test_thirty_days_passes_in_prod if {
	count(deny) == 0 with input as t.plan([t.rc("aws_kms_key", "k", {"deletion_window_in_days": 30})])
}

test_seven_days_denied_in_prod if {
	some f in deny with input as t.plan([t.rc("aws_kms_key", "k", {"deletion_window_in_days": 7})])
	f.message == "deletion_window_in_days is 7, not 30"
}

test_seven_days_allowed_in_dev if {
	count(deny) == 0 with input as t.plan_env([t.rc("aws_kms_key", "k", {"deletion_window_in_days": 7})], "dev")
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_kms_key", "k", {}, {"deletion_window_in_days": true})])
	startswith(f.message, "unverifiable:")
}
