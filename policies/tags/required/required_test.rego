package lz.rules.tags.required

import data.lz.testing as t

test_tagged_resources_pass if {
	count(deny) == 0 with input as t.plan([t.rc("aws_s3_bucket", "b", {"tags": t.tags}), t.rc("aws_s3_bucket_policy", "b", {"policy": "{}"})])
}

test_missing_tags_listed if {
	fs := deny with input as t.plan([t.rc("aws_kms_key", "k", {"tags": {"Owner": "o", "Environment": " "}})])
	{f.message | some f in fs} == {"missing tags: Environment, DataClassification, CostCentre, ManagedBy"}
}

test_taggable_by_configuration if {
	plan := t.plan_cfg([t.rc("aws_vpc", "v", {})], [t.cfg("aws_vpc", "v", {"tags": {"references": ["var.tags"]}})])
	some f in deny with input as plan
	f.address == "aws_vpc.v"
}

test_taggable_by_type_list if {
	count(deny) == 1 with input as t.plan([t.rc("aws_vpc", "v", {})]) with data.lz.settings as {"taggable_types": ["aws_vpc"]}
}

test_unknown_tags_unverifiable if {
	fs := deny with input as t.plan([t.rcu("aws_vpc", "v", {"tags": object.remove(t.tags, ["Owner"])}, {"tags": {"Owner": true}})])
	{f.message | some f in fs} == {"unverifiable: tags.Owner is unknown until apply and is not traced to a resource of the required kind"}
	some g in deny with input as t.plan([t.rcu("aws_vpc", "w", {}, {"tags": true})])
	g.address == "aws_vpc.w"
}
