package lz.rules.secrets.no_values

import data.lz.testing as t

test_write_only_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_secretsmanager_secret_version", "v", {"secret_id": "x", "secret_string_wo_version": 1})])
}

test_secret_string_denied_without_value if {
	fs := deny with input as t.plan([t.rc("aws_secretsmanager_secret_version", "v", {"secret_string": "hunter2hunter2"})])
	{f.message | some f in fs} == {"secret_string is set in the plan (value redacted); use a write-only argument"}
	every f in fs {
		not contains(f.message, "hunter2")
	}
}

test_unknown_binary_denied if {
	some f in deny with input as t.plan([t.rcu("aws_secretsmanager_secret_version", "v", {}, {"secret_binary": true})])
	f.address == "aws_secretsmanager_secret_version.v"
}
