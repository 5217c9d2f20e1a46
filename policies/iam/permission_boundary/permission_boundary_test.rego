package lz.rules.iam.permission_boundary

import data.lz.testing as t

test_known_boundary_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_iam_role", "r", {"permissions_boundary": "arn:aws:iam::111111111111:policy/lz-boundary"})])
}

test_missing_boundary_denied if {
	fs := deny with input as t.plan([t.rc("aws_iam_role", "r", {"name": "x"})])
	{f.address | some f in fs} == {"aws_iam_role.r"}
}

test_boundary_referencing_policy_passes if {
	r := t.rcu("aws_iam_role", "r", {}, {"permissions_boundary": true})
	plan := t.plan_cfg([r], [t.cfg("aws_iam_role", "r", {"permissions_boundary": t.ref(["aws_iam_policy.boundary.arn", "aws_iam_policy.boundary"])})])
	count(deny) == 0 with input as plan
}

test_unknown_boundary_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_iam_role", "r", {}, {"permissions_boundary": true})])
	startswith(f.message, "unverifiable:")
}
