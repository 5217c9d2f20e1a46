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

_keyed(type, name, key, after) := object.union(t.rc(type, name, after), {"address": sprintf("%s.%s[\"%s\"]", [type, name, key]), "index": key})

# Every way a dependent links to a target: by value, by a keyed or key-less reference, within
# a module, and a reference from another module that must not link.
_link_plan := {
	"resource_changes": [
		t.rc("aws_s3_bucket", "a", {"bucket": "name-a"}),
		_keyed("aws_s3_bucket", "k", "x", {}),
		_keyed("aws_s3_bucket", "k", "y", {}),
		t.rc("aws_s3_bucket_versioning", "v1", {"bucket": "name-a"}),
		_keyed("aws_s3_bucket_versioning", "v2", "x", {}),
		t.rc("aws_s3_bucket_versioning", "v3", {}),
		t.rc("aws_s3_bucket_versioning", "v4", {}),
		t.rcm("m", "aws_s3_bucket", "b", {}, {"id": true}),
		t.rcm("m", "aws_s3_bucket_logging", "l", {}, {"bucket": true}),
	],
	"configuration": {"root_module": {
		"resources": [
			t.cfg("aws_s3_bucket_versioning", "v2", {"bucket": t.ref(["aws_s3_bucket.k"])}),
			t.cfg("aws_s3_bucket_versioning", "v3", {"bucket": t.ref([`aws_s3_bucket.k["y"].id`, `aws_s3_bucket.k["y"]`])}),
			t.cfg("aws_s3_bucket_versioning", "v4", {"bucket": t.ref(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])}),
		],
		"module_calls": {"m": {"module": {"resources": [t.cfg("aws_s3_bucket_logging", "l", {"bucket": t.ref(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])})]}}},
	}},
}

# The pairs linked (by the definitions) and found (by the indexes) on plan: [defined, indexed,
# exact, indexed_exact].
_link_pairs(plan) := [defined, indexed, exact, indexed_exact] if {
	defined := {[r.address, x.address, x.after] | some r in resources; some x in resources; linked(r, "bucket", x)} with input as plan
	indexed := {[r.address, x.address, x.after] | some r in resources; some x in links(r, "bucket")} with input as plan
	exact := {[r.address, x.address, x.after] | some r in resources; some x in resources; linked_exact(r, "bucket", x)} with input as plan
	indexed_exact := {[r.address, x.address, x.after] | some r in resources; some x in links_exact(r, "bucket")} with input as plan
}

_addresses(pairs) := {[a, b] | some [a, b, _] in pairs}

test_links_equal_linked if {
	[defined_c, indexed_c, exact_c, indexed_exact_c] := _link_pairs(_link_plan)
	defined_c == indexed_c
	exact_c == indexed_exact_c
	defined := _addresses(defined_c)
	exact := _addresses(exact_c)
	_unique_local with input as _link_plan
	# A known bucket value matches every resource holding it, the bucket itself included.
	exact == {
		["aws_s3_bucket.a", "aws_s3_bucket.a"],
		["aws_s3_bucket.a", "aws_s3_bucket_versioning.v1"],
		["aws_s3_bucket_versioning.v1", "aws_s3_bucket_versioning.v1"],
		["aws_s3_bucket_versioning.v1", "aws_s3_bucket.a"],
		[`aws_s3_bucket_versioning.v2["x"]`, `aws_s3_bucket.k["x"]`],
		["aws_s3_bucket_versioning.v3", `aws_s3_bucket.k["y"]`],
		["module.m.aws_s3_bucket_logging.l", "module.m.aws_s3_bucket.b"],
	}
	defined == exact | {[`aws_s3_bucket_versioning.v2["x"]`, `aws_s3_bucket.k["y"]`]}
}

# Two resources at one address (a crafted plan, or a deposed object with an action other than
# delete): the links come from the multi-value fallback, and equal the definitions; so does a
# resource whose address is not its type.name, found by its type.name only.
test_links_equal_linked_when_an_address_repeats if {
	twice := object.union(_link_plan, {"resource_changes": array.concat(_link_plan.resource_changes, [
		object.union(t.rc("aws_s3_bucket", "a", {"bucket": "name-a", "acl": "private"}), {"deposed": "00000001"}),
		object.union(t.rc("aws_s3_bucket", "k", {}), {"address": "aws_s3_bucket.elsewhere"}),
	])})
	not _unique_local with input as twice
	[defined, indexed, exact, indexed_exact] := _link_pairs(twice)
	defined == indexed
	exact == indexed_exact
	count({c | some ["aws_s3_bucket_versioning.v1", "aws_s3_bucket.a", c] in exact}) == 2
	["aws_s3_bucket_versioning.v2[\"x\"]", "aws_s3_bucket.elsewhere"] in _addresses(defined)
}

test_links_equal_linked_when_an_address_is_not_type_name if {
	odd := object.union(_link_plan, {"resource_changes": array.concat(_link_plan.resource_changes, [
		object.union(t.rc("aws_s3_bucket", "k", {}), {"address": "aws_s3_bucket.elsewhere"}),
	])})
	_unique_local with input as odd
	[defined, indexed, exact, indexed_exact] := _link_pairs(odd)
	defined == indexed
	exact == indexed_exact
	["aws_s3_bucket_versioning.v2[\"x\"]", "aws_s3_bucket.elsewhere"] in _addresses(defined)
}
