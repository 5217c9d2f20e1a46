package lz.rules.s3.encryption

import data.lz.testing as t

_bucket := t.rc("aws_s3_bucket", "logs", {"bucket": "lz-logs", "tags": t.tags})

_sse(algorithm, key) := t.rc("aws_s3_bucket_server_side_encryption_configuration", "logs", {
	"bucket": "lz-logs",
	"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": key}]}],
})

_ids(plan) := {f.address | some f in deny with input as plan}

test_kms_with_key_passes if {
	count(deny) == 0 with input as t.plan([_bucket, _sse("aws:kms", "arn:aws:kms:eu-west-2:111111111111:alias/lz-logs")])
}

test_aes256_denied if {
	_ids(t.plan([_bucket, _sse("AES256", null)])) == {"aws_s3_bucket_server_side_encryption_configuration.logs"}
}

test_missing_key_denied if {
	some f in deny with input as t.plan([_bucket, _sse("aws:kms", null)])
	contains(f.message, "no KMS key")
}

test_bucket_without_sse_denied if {
	_ids(t.plan([_bucket])) == {"aws_s3_bucket.logs"}
}

test_empty_rule_denied if {
	c := t.rc("aws_s3_bucket_server_side_encryption_configuration", "logs", {"bucket": "lz-logs", "rule": []})
	_ids(t.plan([_bucket, c])) == {"aws_s3_bucket_server_side_encryption_configuration.logs"}
}

_unknown_key_sse := t.rcu(
	"aws_s3_bucket_server_side_encryption_configuration", "logs",
	{"bucket": "lz-logs", "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]},
	{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": true}]}]},
)

test_unknown_key_unverifiable if {
	some f in deny with input as t.plan([_bucket, _unknown_key_sse])
	startswith(f.message, "unverifiable:")
	f.severity == "high"
}

test_unverifiable_severity_configurable if {
	some f in deny with input as t.plan([_bucket, _unknown_key_sse]) with data.lz.settings as {"unverifiable_severity": "medium"}
	f.severity == "medium"
}

test_unknown_key_traced_to_kms_key_passes if {
	expr := {"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": t.ref(["aws_kms_key.logs.arn", "aws_kms_key.logs"])}]}]}
	plan := t.plan_cfg([_bucket, _unknown_key_sse], [t.cfg("aws_s3_bucket_server_side_encryption_configuration", "logs", expr)])
	count(deny) == 0 with input as plan
}

_inline_sse(alg, key) := {"bucket": "lz-b", "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": alg, "kms_master_key_id": key}]}]}]}

test_inline_v3_kms_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_s3_bucket", "b", _inline_sse("aws:kms", "arn:aws:kms:eu-west-2:1:key/k"))])
}

test_inline_v3_aes_denied if {
	fs := deny with input as t.plan([t.rc("aws_s3_bucket", "b", _inline_sse("AES256", null))])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_inline_v3_kms_without_key_denied if {
	fs := deny with input as t.plan([t.rc("aws_s3_bucket", "b", _inline_sse("aws:kms", null))])
	some f in fs
	contains(f.message, "no KMS key")
}

test_no_configuration_unknown_bucket_unverifiable if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true})
	c := t.rcu("aws_s3_bucket_server_side_encryption_configuration", "c", {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "k"}]}]}, {"bucket": true})
	fs := deny with input as t.plan([b, c])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}

_inline_unknown_key := t.rcu(
	"aws_s3_bucket", "b",
	{"bucket": "lz-b", "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}]},
	{"server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": true}]}]}]},
)

_inline_key_expr(refs) := {"server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": t.ref(refs)}]}]}]}

test_inline_v3_unknown_key_traced_to_kms_key_passes if {
	plan := t.plan_cfg([_inline_unknown_key], [t.cfg("aws_s3_bucket", "b", _inline_key_expr(["aws_kms_key.key.arn", "aws_kms_key.key"]))])
	count(deny) == 0 with input as plan
}

test_inline_v3_unknown_key_untraced_unverifiable if {
	plan := t.plan_cfg([_inline_unknown_key], [t.cfg("aws_s3_bucket", "b", _inline_key_expr(["var.key"]))])
	fs := deny with input as plan
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable: kms_master_key_id")
}
