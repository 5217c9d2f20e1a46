package lz.rules.iam.managed_admin

import data.lz.testing as t

_admin_arn := "arn:aws:iam::aws:policy/AdministratorAccess"

_mk_role(name, role_tag, boundary) := t.rc("aws_iam_role", name, {"name": name, "permissions_boundary": boundary, "tags": {"Role": role_tag}})

_attach(role) := t.rc("aws_iam_role_policy_attachment", role, {"role": role, "policy_arn": _admin_arn})

test_capped_deployer_passes if {
	count(deny) == 0 with input as t.plan([_mk_role("lz-prod-deployer", "deployer", "arn:aws:iam::1:policy/b"), _attach("lz-prod-deployer")])
}

test_capped_break_glass_passes if {
	count(deny) == 0 with input as t.plan([_mk_role("lz-prod-break-glass", "break-glass", "arn:aws:iam::1:policy/b"), _attach("lz-prod-break-glass")])
}

test_deployer_without_boundary_denied if {
	fs := deny with input as t.plan([_mk_role("lz-prod-deployer", "deployer", null), _attach("lz-prod-deployer")])
	{f.address | some f in fs} == {"aws_iam_role_policy_attachment.lz-prod-deployer"}
}

test_ordinary_role_denied if {
	fs := deny with input as t.plan([_mk_role("app", "service", "arn:aws:iam::1:policy/b"), _attach("app")])
	some f in fs
	contains(f.message, "AdministratorAccess on role app")
}

test_read_only_attachment_passes if {
	a := t.rc("aws_iam_role_policy_attachment", "ro", {"role": "app", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
	count(deny) == 0 with input as t.plan([_mk_role("app", "service", null), a])
}

test_unknown_role_unverifiable if {
	a := t.rcu("aws_iam_role_policy_attachment", "x", {"policy_arn": _admin_arn}, {"role": true})
	some f in deny with input as t.plan([a])
	startswith(f.message, "unverifiable:")
}

test_role_by_reference_with_traced_boundary_passes if {
	r := t.rcu("aws_iam_role", "deployer", {"name": "d", "tags": {"Role": "deployer"}}, {"permissions_boundary": true})
	a := t.rcu("aws_iam_role_policy_attachment", "deployer", {"policy_arn": _admin_arn}, {"role": true})
	plan := t.plan_cfg([r, a], [
		t.cfg("aws_iam_role", "deployer", {"permissions_boundary": t.ref(["aws_iam_policy.b.arn", "aws_iam_policy.b"])}),
		t.cfg("aws_iam_role_policy_attachment", "deployer", {"role": t.ref(["aws_iam_role.deployer.name", "aws_iam_role.deployer"])}),
	])
	count(deny) == 0 with input as plan
}

test_user_attachment_denied if {
	a := t.rc("aws_iam_user_policy_attachment", "u", {"user": "bob", "policy_arn": _admin_arn})
	fs := deny with input as t.plan([a])
	some f in fs
	contains(f.message, "attached to a user")
}

test_policy_attachment_to_users_denied if {
	a := t.rc("aws_iam_policy_attachment", "p", {"users": ["bob"], "roles": [], "policy_arn": _admin_arn})
	fs := deny with input as t.plan([a])
	some f in fs
	contains(f.message, "users or groups")
}

test_managed_policy_arns_on_role_denied if {
	r := t.rc("aws_iam_role", "app", {"name": "app", "permissions_boundary": "b", "managed_policy_arns": [_admin_arn]})
	fs := deny with input as t.plan([r])
	{f.address | some f in fs} == {"aws_iam_role.app"}
}

test_policy_attachment_role_capped_passes if {
	a := t.rc("aws_iam_policy_attachment", "p", {"roles": ["lz-deployer"], "policy_arn": _admin_arn})
	count(deny) == 0 with input as t.plan([_mk_role("lz-deployer", "deployer", "b"), a])
}

test_two_roles_of_one_name_are_each_judged if {
	capped := t.rc("aws_iam_role", "a", {"name": "app", "permissions_boundary": "arn:aws:iam::1:policy/b", "tags": {"Role": "deployer"}})
	open := t.rc("aws_iam_role", "b", {"name": "app", "permissions_boundary": null, "tags": {"Role": "deployer"}})
	fs := deny with input as t.plan([capped, open, _attach("app")])
	count(fs) == 1
}
