package lz.rules.iam.wildcard_admin

import data.lz.testing as t

_policy(statement) := t.rc("aws_iam_policy", "p", {"policy": json.marshal({"Version": "2012-10-17", "Statement": statement})})

test_scoped_policy_passes if {
	count(deny) == 0 with input as t.plan([_policy([{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}])])
	count(deny) == 0 with input as t.plan([_policy({"Effect": "Deny", "Action": "*", "Resource": "*"})])
}

test_admin_policy_denied if {
	fs := deny with input as t.plan([_policy([{"Effect": "Allow", "Action": "*", "Resource": ["*"]}])])
	{f.address | some f in fs} == {"aws_iam_policy.p"}
}

test_inline_role_policy_denied if {
	role := t.rc("aws_iam_role", "r", {"inline_policy": [{"name": "x", "policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]})}]})
	fs := deny with input as t.plan([role])
	{f.address | some f in fs} == {"aws_iam_role.r"}
}

test_unknown_document_unverifiable if {
	p := t.rcu("aws_iam_role_policy", "p", {}, {"policy": true})
	some f in deny with input as t.plan([p])
	f.message == "unverifiable: policy is unknown until apply and is not traced to a resource of the required kind"
}

_boundary := t.rc("aws_iam_policy", "boundary", {"name": "lz-boundary", "policy": json.marshal({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})})

_role := t.rc("aws_iam_role", "app", {"permissions_boundary": "arn:aws:iam::111111111111:policy/lz-boundary"})

test_boundary_only_policy_passes if {
	count(deny) == 0 with input as t.plan([_boundary, _role])
}

test_boundary_also_attached_denied if {
	att := t.rc("aws_iam_role_policy_attachment", "app", {"policy_arn": "arn:aws:iam::111111111111:policy/lz-boundary", "role": "app"})
	fs := deny with input as t.plan([_boundary, _role, att])
	{f.address | some f in fs} == {"aws_iam_policy.boundary"}
}

test_boundary_by_reference_passes if {
	role := t.rcu("aws_iam_role", "app", {}, {"permissions_boundary": true})
	plan := t.plan_cfg([_boundary, role], [t.cfg("aws_iam_role", "app", {"permissions_boundary": t.ref(["aws_iam_policy.boundary.arn", "aws_iam_policy.boundary"])})])
	count(deny) == 0 with input as plan
}

test_boundary_with_path_passes if {
	b := t.rc("aws_iam_policy", "boundary", object.union(_boundary.change.after, {"path": "/lz/"}))
	r := t.rc("aws_iam_role", "app", {"permissions_boundary": "arn:aws:iam::111111111111:policy/lz/lz-boundary"})
	count(deny) == 0 with input as t.plan([b, r])
}

test_star_on_specific_role_denied if {
	fs := deny with input as t.plan([_policy([{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:iam::1:role/deployer"}])])
	{f.message | some f in fs} == {"policy allows Action * on arn:aws:iam::1:role/deployer"}
}
