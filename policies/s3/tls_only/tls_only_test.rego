package lz.rules.s3.tls_only

import data.lz.testing as t

_bucket := t.rc("aws_s3_bucket", "b", {"bucket": "lz-b"})

_policy(doc) := t.rc("aws_s3_bucket_policy", "b", {"bucket": "lz-b", "policy": json.marshal(doc)})

_deny_insecure := {"Version": "2012-10-17", "Statement": [{
	"Sid": "DenyInsecureTransport",
	"Effect": "Deny",
	"Principal": "*",
	"Action": "s3:*",
	"Resource": ["arn:aws:s3:::lz-b", "arn:aws:s3:::lz-b/*"],
	"Condition": {"Bool": {"aws:SecureTransport": "false"}},
}]}

test_deny_statement_passes if {
	count(deny) == 0 with input as t.plan([_bucket, _policy(_deny_insecure)])
}

test_boolean_false_and_single_statement_pass if {
	doc := {"Statement": {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": [false]}}}}
	count(deny) == 0 with input as t.plan([_bucket, _policy(doc)])
}

test_allow_only_policy_denied if {
	doc := {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
	fs := deny with input as t.plan([_bucket, _policy(doc)])
	{f.address | some f in fs} == {"aws_s3_bucket_policy.b"}
}

test_missing_policy_denied if {
	fs := deny with input as t.plan([_bucket])
	{f.address | some f in fs} == {"aws_s3_bucket.b"}
}

test_unknown_policy_unverifiable if {
	p := t.rcu("aws_s3_bucket_policy", "b", {"bucket": "lz-b"}, {"policy": true})
	some f in deny with input as t.plan([_bucket, p])
	startswith(f.message, "unverifiable:")
}

_tls_doc := json.marshal({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})

test_inline_v3_policy_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_s3_bucket", "b", {"bucket": "lz-b", "policy": _tls_doc})])
}

test_inline_v3_policy_without_deny_denied if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Principal": "*"}]})
	fs := deny with input as t.plan([t.rc("aws_s3_bucket", "b", {"bucket": "lz-b", "policy": doc})])
	some f in fs
	contains(f.message, "inline bucket policy")
}

test_no_configuration_unknown_bucket_unverifiable if {
	b := t.rcu("aws_s3_bucket", "b", {}, {"bucket": true})
	p := t.rcu("aws_s3_bucket_policy", "p", {"policy": _tls_doc}, {"bucket": true})
	fs := deny with input as t.plan([b, p])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}
