# METADATA
# title: AWS-managed administrator policies only on capped privileged roles
# description: >-
#   An AWS-managed administrator policy (AdministratorAccess, PowerUserAccess, IAMFullAccess)
#   is attached (aws_iam_role_policy_attachment, aws_iam_policy_attachment, a role's
#   managed_policy_arns) only to a deployer or break-glass role (Role tag or role name) that
#   carries a permissions boundary, which caps what the attachment grants. Attachments to
#   users, groups or any other role are violations; an attachment whose role cannot be
#   resolved is unverifiable.
# custom:
#   id: LZ-IAM-008
#   severity: critical
#   remediation: >-
#     Attach AWS-managed administrator policies only to the deployer and break-glass roles,
#     with a permissions boundary and a session of at most one hour; give other roles a scoped
#     customer-managed policy
#   controls:
#     - CIS-AWS-1.16
#     - NIST-800-53-AC-6
#     - DORA-Art9
package lz.rules.iam.managed_admin

import data.lz.lib

_admin(arn) if regex.match(`^arn:[a-z-]+:iam::aws:policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$`, lib.str(arn))

_name(arn) := regex.replace(lib.str(arn), `^.*:policy/`, "")

# [attachment address, role name or null, policy ARN]
_attachments contains [a.address, lib.val(a, ["role"]), lib.val(a, ["policy_arn"]), a] if {
	some a in lib.of_type("aws_iam_role_policy_attachment")
	_admin(lib.val(a, ["policy_arn"]))
}

_attachments contains [a.address, role, lib.val(a, ["policy_arn"]), a] if {
	some a in lib.of_type("aws_iam_policy_attachment")
	_admin(lib.val(a, ["policy_arn"]))
	some role in lib.arr(lib.val(a, ["roles"]))
}

_attachments contains [r.address, lib.val(r, ["name"]), arn, r] if {
	some r in lib.of_type("aws_iam_role")
	some arn in lib.arr(lib.val(r, ["managed_policy_arns"]))
	_admin(arn)
}

deny contains f if {
	some t in ["aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"]
	some a in lib.of_type(t)
	_admin(lib.val(a, ["policy_arn"]))
	f := lib.finding(a.address, sprintf("%s is attached to a %s", [_name(lib.val(a, ["policy_arn"])), trim_suffix(trim_prefix(t, "aws_iam_"), "_policy_attachment")]))
}

deny contains f if {
	some a in lib.of_type("aws_iam_policy_attachment")
	_admin(lib.val(a, ["policy_arn"]))
	count(array.concat(lib.arr(lib.val(a, ["users"])), lib.arr(lib.val(a, ["groups"])))) > 0
	f := lib.finding(a.address, sprintf("%s is attached to users or groups", [_name(lib.val(a, ["policy_arn"]))]))
}

# The roles an attachment names: a set, since two roles may carry one name (module instances
# in one plan); each is judged.
_roles(role_name, a) := rs if {
	a.type != "aws_iam_role"
	is_string(role_name)
	rs := _roles_by_name[role_name]
}

_roles(role_name, a) := rs if {
	not is_string(role_name)
	a.type == "aws_iam_role_policy_attachment"
	rs := {r | some r in lib.linked_exact_to(a, "role", "aws_iam_role")}
}

_roles(_, a) := {a} if a.type == "aws_iam_role"

_has_role(role_name, a) if {
	some _ in _roles(role_name, a)
}

_roles_by_name[n] contains r if {
	some r in lib.of_type("aws_iam_role")
	n := lib.val(r, ["name"])
}

_capped(r) if {
	count(lib.privileged_kinds(r)) > 0
	lib.present(r, ["permissions_boundary"])
}

_capped(r) if {
	count(lib.privileged_kinds(r)) > 0
	lib.unknown(r, ["permissions_boundary"])
	lib.references_type(r, ["permissions_boundary"], "aws_iam_policy")
}

deny contains f if {
	some [address, role_name, arn, a] in _attachments
	some r in _roles(role_name, a)
	not _capped(r)
	f := lib.finding(address, sprintf("%s on role %v, which is not a deployer or break-glass role capped by a permissions boundary", [_name(arn), object.get(r.after, "name", r.address)]))
}

deny contains f if {
	some [address, role_name, arn, a] in _attachments
	not _has_role(role_name, a)
	f := lib.unverifiable(address, sprintf("the role %s is attached to", [_name(arn)]))
}
