package lz.rules.cloudtrail.encryption

import data.lz.testing as t

test_known_key_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_cloudtrail", "org", {"kms_key_id": "arn:aws:kms:eu-west-2:111111111111:alias/trail"})])
}

test_missing_key_denied if {
	some f in deny with input as t.plan([t.rc("aws_cloudtrail", "org", {"kms_key_id": null})])
	f.address == "aws_cloudtrail.org"
	not f.severity
}

test_unknown_untraced_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_cloudtrail", "org", {}, {"kms_key_id": true})])
	startswith(f.message, "unverifiable:")
}

# module.trail's kms_key_id is var.kms_key_arn, which the root sets from module.kms's key_arn
# output, which is aws_kms_key.this.arn inside module.kms.
test_traced_through_module_variable_and_output_passes if {
	trail := t.rcm("trail", "aws_cloudtrail", "this", {}, {"kms_key_id": true})
	plan := object.union(t.plan([trail]), {"configuration": {"root_module": {"module_calls": {
		"trail": {"expressions": {"kms_key_arn": t.ref(["module.kms.key_arn", "module.kms"])}, "module": {"resources": [t.cfg("aws_cloudtrail", "this", {"kms_key_id": t.ref(["var.kms_key_arn"])})]}},
		"kms": {"module": {"outputs": {"key_arn": {"expression": t.ref(["aws_kms_key.this.arn", "aws_kms_key.this"])}}}},
	}}}})
	count(deny) == 0 with input as plan
}

test_traced_to_wrong_kind_unverifiable if {
	trail := t.rcm("trail", "aws_cloudtrail", "this", {}, {"kms_key_id": true})
	plan := object.union(t.plan([trail]), {"configuration": {"root_module": {"module_calls": {"trail": {
		"expressions": {"kms_key_arn": t.ref(["aws_s3_bucket.x.arn"])},
		"module": {"resources": [t.cfg("aws_cloudtrail", "this", {"kms_key_id": t.ref(["var.kms_key_arn"])})]},
	}}}}})
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
}
