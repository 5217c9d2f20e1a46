package lz.rules.kms.rotation

import data.lz.testing as t

test_rotation_enabled_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_kms_key", "k", {"enable_key_rotation": true})])
}

test_rotation_missing_or_false_denied if {
	fs := deny with input as t.plan([t.rc("aws_kms_key", "a", {"enable_key_rotation": false}), t.rc("aws_kms_key", "b", {})])
	{f.address | some f in fs} == {"aws_kms_key.a", "aws_kms_key.b"}
}

test_rotation_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_kms_key", "k", {}, {"enable_key_rotation": true})])
	startswith(f.message, "unverifiable:")
}

test_deleted_key_ignored if {
	rc := object.union(t.rc("aws_kms_key", "k", null), {"change": {"actions": ["delete"], "after": null}})
	count(deny) == 0 with input as t.plan([rc])
}
