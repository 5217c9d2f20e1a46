package lz.rules.iam.break_glass_mfa

import data.lz.testing as t

_role(condition) := t.rc("aws_iam_role", "bg", {"name": "lz-prod-break-glass", "assume_role_policy": json.marshal({"Statement": [{
	"Effect": "Allow",
	"Principal": {"AWS": "arn:aws:iam::111111111111:root"},
	"Action": "sts:AssumeRole",
	"Condition": condition,
}]})})

test_mfa_required_passes if {
	count(deny) == 0 with input as t.plan([_role({"Bool": {"aws:MultiFactorAuthPresent": "true"}})])
	count(deny) == 0 with input as t.plan([_role({"Bool": {"aws:MultiFactorAuthPresent": [true]}})])
}

test_missing_or_weak_mfa_denied if {
	some f in deny with input as t.plan([_role({})])
	f.address == "aws_iam_role.bg"
	count(deny) == 1 with input as t.plan([_role({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})])
}

test_other_roles_ignored if {
	r := t.rc("aws_iam_role", "app", {"name": "lz-app", "assume_role_policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})})
	count(deny) == 0 with input as t.plan([r])
}

test_unknown_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_iam_role", "bg", {"tags": {"Role": "break-glass"}}, {"assume_role_policy": true})])
	startswith(f.message, "unverifiable:")
}
