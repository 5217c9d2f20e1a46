package lz.rules.controls.attributes

import data.lz.testing as t

_table := [
	{"type": "aws_s3_bucket", "path": ["force_destroy"], "equals": false, "rule": "LZ-CTL-001"},
	{"type": "aws_flow_log", "path": ["log_destination"], "set": true, "rule": "LZ-CTL-001"},
	{"type": "aws_kms_key", "path": ["deletion_window_in_days"], "at_least": 7, "rule": "LZ-CTL-001"},
	{"type": "aws_kms_key", "path": ["deletion_window_in_days"], "at_most": 30, "rule": "LZ-CTL-001"},
	{"type": "aws_kms_key", "path": ["enable_key_rotation"], "equals": true, "rule": "LZ-KMS-001"},
	{"type": "aws_s3_bucket_server_side_encryption_configuration", "path": ["rule", 0, "bucket_key_enabled"], "equals": true, "rule": "LZ-CTL-001", "except_purpose": "access-logs"},
]

test_except_purpose_skips_the_module if {
	logs := t.rcm("logs", "aws_s3_bucket", "this", {"tags": {"Purpose": "access-logs"}, "force_destroy": false}, {})
	sse := t.rcm("logs", "aws_s3_bucket_server_side_encryption_configuration", "this", {"rule": [{"bucket_key_enabled": false}]}, {})
	other := t.rcm("data", "aws_s3_bucket_server_side_encryption_configuration", "this", {"rule": [{"bucket_key_enabled": false}]}, {})
	fs := deny with input as t.plan([logs, sse, other]) with data.lz.controls as _table
	{f.address | some f in fs} == {"module.data.aws_s3_bucket_server_side_encryption_configuration.this"}
}

test_compliant_passes if {
	plan := t.plan([
		t.rc("aws_s3_bucket", "b", {"force_destroy": false}),
		t.rcu("aws_flow_log", "l", {}, {"log_destination": true}),
		t.rc("aws_kms_key", "k", {"deletion_window_in_days": 30, "enable_key_rotation": false}),
	])
	count(deny) == 0 with input as plan with data.lz.controls as _table
}

test_equals_violated if {
	fs := deny with input as t.plan([t.rc("aws_s3_bucket", "b", {"force_destroy": true})]) with data.lz.controls as _table
	{f.message | some f in fs} == {"force_destroy is true, must be false"}
}

test_equals_null_violated if {
	fs := deny with input as t.plan([t.rc("aws_s3_bucket", "b", {"force_destroy": null})]) with data.lz.controls as _table
	count(fs) == 1
}

test_set_violated if {
	fs := deny with input as t.plan([t.rc("aws_flow_log", "l", {"log_destination": ""})]) with data.lz.controls as _table
	{f.message | some f in fs} == {"log_destination is not set"}
}

test_bounds_violated if {
	fs := deny with input as t.plan([t.rc("aws_kms_key", "a", {"deletion_window_in_days": 3}), t.rc("aws_kms_key", "b", {"deletion_window_in_days": 45})]) with data.lz.controls as _table
	{f.message | some f in fs} == {"deletion_window_in_days is 3, below 7", "deletion_window_in_days is 45, above 30"}
}

test_unknown_unverifiable if {
	fs := deny with input as t.plan([t.rcu("aws_s3_bucket", "b", {}, {"force_destroy": true})]) with data.lz.controls as _table
	some f in fs
	startswith(f.message, "unverifiable:")
}

test_repository_table_is_loaded if {
	some c in data.lz.controls
	c.rule == "LZ-CTL-001"
}
