package lz.lib

import data.lz.testing as t

test_module_names_drop_instance_keys if {
	module_names(`module.a["x"].module.b[0]`) == ["a", "b"]
	module_names("") == []
}

test_unknown_covers_nested_paths if {
	r := {"unknown": {"rule": true, "tags": {"Owner": true}}}
	unknown(r, ["rule", 0, "x"])
	unknown(r, ["tags", "Owner"])
	not unknown(r, ["tags", "Name"])
}

# module.outer calls module.inner, whose output key_arn is aws_kms_key.this.arn; the trail in
# module.outer takes it as module.inner.key_arn.
test_references_type_through_nested_module_output if {
	rc := t.rcm("outer", "aws_cloudtrail", "this", {}, {"kms_key_id": true})
	r := {"address": rc.address, "type": "aws_cloudtrail", "name": "this", "module_address": "module.outer", "unknown": {}}
	cfg := {"resource_changes": [rc], "configuration": {"root_module": {"module_calls": {"outer": {"module": {
		"resources": [t.cfg("aws_cloudtrail", "this", {"kms_key_id": t.ref(["module.inner.key_arn", "module.inner"])})],
		"module_calls": {"inner": {"module": {"outputs": {"key_arn": {"expression": t.ref(["aws_kms_key.this.arn", "aws_kms_key.this"])}}}}},
	}}}}}}
	references_type(r, ["kms_key_id"], "aws_kms_key") with input as cfg
	not references_type(r, ["kms_key_id"], "aws_iam_policy") with input as cfg
}

test_invalid_policy_json_is_not_parsed if {
	not policy_doc("{not json")
	statements({"Statement": {"Effect": "Deny"}}) == [{"Effect": "Deny"}]
}

test_configuration_three_modules_deep if {
	rc := {"address": "module.a.module.b.module.c.aws_kms_key.k", "module_address": "module.a.module.b.module.c", "mode": "managed", "type": "aws_kms_key", "name": "k", "change": {"actions": ["create"], "after": {}, "after_unknown": {}}}
	c := t.cfg("aws_kms_key", "k", {"tags": t.ref(["var.tags"])})
	plan := {"resource_changes": [rc], "configuration": {"root_module": {"module_calls": {"a": {"module": {"module_calls": {"b": {"module": {"module_calls": {"c": {"module": {"resources": [c]}}}}}}}}}}}}
	some r in resources with input as plan
	has_config_attr(r, "tags") with input as plan
}

test_malformed_configuration_is_ignored if {
	plan := {"resource_changes": [t.rc("aws_kms_key", "k", {})], "configuration": {"root_module": {"module_calls": null, "resources": null}}}
	count(resources) == 1 with input as plan
	count(_configs) == 0 with input as plan
}
