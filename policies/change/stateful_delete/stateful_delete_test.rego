package lz.rules.change.stateful_delete

import data.lz.testing as t

_change(type, actions) := object.union(t.rc(type, "x", {}), {"change": {"actions": actions}})

test_create_and_update_pass if {
	count(deny) == 0 with input as t.plan([_change("aws_s3_bucket", ["create"]), _change("aws_kms_key", ["update"])])
}

test_delete_and_replace_denied if {
	fs := deny with input as t.plan([_change("aws_s3_bucket", ["delete"]), _change("aws_kms_key", ["delete", "create"]), _change("aws_iam_role", ["delete"])])
	{f.message | some f in fs} == {"planned delete of stateful aws_s3_bucket", "planned replace of stateful aws_kms_key"}
}
