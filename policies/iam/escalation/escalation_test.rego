package lz.rules.iam.escalation

import data.lz.testing as t

_policy(actions, resource) := t.rc("aws_iam_policy", "p", {"name": "p", "policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})})

test_scoped_read_passes if {
	count(deny) == 0 with input as t.plan([_policy(["s3:GetObject"], "*")])
}

test_iam_star_denied if {
	fs := deny with input as t.plan([_policy("iam:*", "*")])
	{f.message | some f in fs} == {"policy allows iam:*"}
}

test_passrole_star_denied if {
	fs := deny with input as t.plan([_policy(["iam:PassRole"], "*")])
	some f in fs
	contains(f.message, "iam:PassRole on Resource *")
}

test_passrole_scoped_passes if {
	count(deny) == 0 with input as t.plan([_policy(["iam:PassRole"], "arn:aws:iam::1:role/app")])
}

test_policy_version_denied if {
	fs := deny with input as t.plan([_policy(["iam:CreatePolicyVersion"], "arn:aws:iam::1:policy/x")])
	count(fs) == 1
}

test_attach_wildcard_denied if {
	fs := deny with input as t.plan([_policy(["iam:Attach*"], "*")])
	some f in fs
	contains(f.message, "iam:attachrolepolicy")
}

test_deny_statement_ignored if {
	p := t.rc("aws_iam_role_policy", "p", {"policy": json.marshal({"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]})})
	count(deny) == 0 with input as t.plan([p])
}

test_inline_role_policy_denied if {
	r := t.rc("aws_iam_role", "r", {"name": "r", "permissions_boundary": "b", "inline_policy": [{"name": "x", "policy": json.marshal({"Statement": {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*"}})}]})
	fs := deny with input as t.plan([r])
	{f.address | some f in fs} == {"aws_iam_role.r"}
}
