# METADATA
# title: Plan traversal library
# description: >-
#   Resources from resource_changes with their planned values and unknowns, module-aware
#   configuration lookups, reference tracing through module variables and outputs, findings.
package lz.lib

default _configured := {}

_configured := data.lz.settings

_defaults := {
	"unverifiable_severity": "high",
	"allowed_regions": ["eu-west-1", "eu-west-2"],
	"required_tags": ["Owner", "Environment", "DataClassification", "CostCentre", "ManagedBy"],
	"taggable_types": [
		"aws_s3_bucket",
		"aws_kms_key",
		"aws_cloudtrail",
		"aws_cloudwatch_log_group",
		"aws_secretsmanager_secret",
		"aws_vpc",
		"aws_subnet",
		"aws_internet_gateway",
		"aws_route_table",
		"aws_security_group",
		"aws_default_security_group",
		"aws_flow_log",
		"aws_iam_role",
		"aws_iam_policy",
		"aws_iam_openid_connect_provider",
		"aws_dynamodb_table",
	],
	"stateful_types": [
		"aws_s3_bucket",
		"aws_s3_bucket_object_lock_configuration",
		"aws_kms_key",
		"aws_cloudwatch_log_group",
		"aws_secretsmanager_secret",
		"aws_dynamodb_table",
	],
	"prod_environments": ["prod"],
	"retention_environments": ["prod", "preprod"],
	"log_archive_retention_days": 2190,
	"log_retention_days": 365,
	"kms_deletion_window_prod": 30,
	"max_privileged_session_seconds": 3600,
}

settings := object.union(_defaults, _configured)

default environment := ""

environment := input.variables.environment.value

_obj(x) := x if is_object(x)

_obj(x) := {} if not is_object(x)

# A resource only being destroyed has no planned configuration to check.
_delete_only(rc) if rc.change.actions == ["delete"]

resources contains r if {
	some rc in arr(object.get(input, "resource_changes", []))
	object.get(rc, "mode", "managed") == "managed"
	not _delete_only(rc)
	r := {
		"address": rc.address,
		"type": rc.type,
		"name": rc.name,
		"module_address": object.get(rc, "module_address", ""),
		"actions": rc.change.actions,
		"after": _obj(object.get(rc.change, "after", {})),
		"unknown": _obj(object.get(rc.change, "after_unknown", {})),
	}
}

# Memoized per evaluation, unlike functions. Every index of this library is built in one
# pass over the resources: a comprehension nested in a loop over the resources would make
# evaluation quadratic in the plan.
_by_type[t] contains r if {
	some r in resources
	t := r.type
}

# A multi-value rule (an index) without entries is undefined in regorus, not empty: each
# lookup falls back to the empty set.
of_type(t) := x if {
	x := _by_type[t]
} else := set()

val(r, path) := object.get(r.after, path, null)

# True when the value at path, or any enclosing value, is unknown until apply.
unknown(r, path) if {
	some n in numbers.range(1, count(path))
	object.get(r.unknown, array.slice(path, 0, n), false) == true
}

tag(r, key) := object.get(r.after, ["tags", key], "")

# A finding of the calling rule: its id, severity and controls come from the rule's
# METADATA (lz-policy fills them in), never from the rule body.
finding(address, message) := {
	"address": address,
	"message": message,
}

# An unverifiable finding: severity unverifiable_severity from the settings.
unverifiable_finding(address, message) := {
	"address": address,
	"message": concat("", ["unverifiable: ", message]),
	"severity": settings.unverifiable_severity,
}

unverifiable(address, what) := unverifiable_finding(
	address,
	sprintf("%s is unknown until apply and is not traced to a resource of the required kind", [what]),
)

# Module names of a module address, without instance keys: module.a["x"].module.b -> [a, b].
module_names(addr) := [p |
	parts := split(_strip(addr), ".")
	some i, p in parts
	i % 2 == 1
]

_strip(s) := regex.replace(s, `\[[^\]]*\]`, "")

# Module configurations by joined module names ("" root, "a", "a.b", "a.b.c").
_module_configs[""] := _obj(object.get(_obj(input.configuration), "root_module", {}))

_module_configs[k] := _obj(object.get(_obj(m1), "module", {})) if {
	some n1, m1 in _obj(object.get(_obj(input.configuration), ["root_module", "module_calls"], {}))
	k := n1
}

_module_configs[k] := _obj(object.get(_obj(m2), "module", {})) if {
	some n1, m1 in _obj(object.get(_obj(input.configuration), ["root_module", "module_calls"], {}))
	some n2, m2 in _obj(object.get(_obj(m1), ["module", "module_calls"], {}))
	k := concat(".", [n1, n2])
}

_module_configs[k] := _obj(object.get(_obj(m3), "module", {})) if {
	some n1, m1 in _obj(object.get(_obj(input.configuration), ["root_module", "module_calls"], {}))
	some n2, m2 in _obj(object.get(_obj(m1), ["module", "module_calls"], {}))
	some n3, m3 in _obj(object.get(_obj(m2), ["module", "module_calls"], {}))
	k := concat(".", [n1, n2, n3])
}

module_config(names) := object.get(_module_configs, concat(".", names), {})

# Configuration resources by module address and resource address
# ("module.a.module.b|aws_x.this").
_config_index[k] := c if {
	some mk, m in _module_configs
	some c in arr(object.get(m, "resources", []))
	k := concat("|", [_module_prefix(mk), c.address])
}

_module_prefix("") := ""

_module_prefix(mk) := concat("", ["module.", replace(mk, ".", ".module.")]) if mk != ""

_configs := {r.address: c |
	some r in resources
	k := concat("", [_strip(r.module_address), "|", r.type, ".", r.name])
	c := _config_index[k]
}

has_config_attr(r, attr) if object.get(_configs, [r.address, "expressions", attr], null) != null

refs(r, path) := arr(object.get(_configs, array.concat([r.address, "expressions"], array.concat(path, ["references"])), []))

_from_var(node) := {{"m": parent, "ref": _strip(ref)} |
	startswith(node.ref, "var.")
	count(node.m) > 0
	parent := array.slice(node.m, 0, count(node.m) - 1)
	call := node.m[count(node.m) - 1]
	name := split(node.ref, ".")[1]
	some ref in arr(object.get(module_config(parent), ["module_calls", call, "expressions", name, "references"], []))
}

_from_output(node) := {{"m": child, "ref": _strip(ref)} |
	parts := split(node.ref, ".")
	parts[0] == "module"
	count(parts) >= 3
	child := array.concat(node.m, [parts[1]])
	some ref in arr(object.get(module_config(child), ["outputs", parts[2], "expression", "references"], []))
}

_next(node) := _from_var(node) | _from_output(node)

_step(nodes) := {n | some x in nodes; some n in _next(x)}

# Rego forbids recursion: a fixed number of hops covers module nesting used in practice.
_reach(nodes) := nodes | f1 | f2 | f3 | f4 | f5 | f6 if {
	f1 := _step(nodes)
	f2 := _step(f1)
	f3 := _step(f2)
	f4 := _step(f3)
	f5 := _step(f4)
	f6 := _step(f5)
}

# The expression at path refers, directly or through module variables and outputs, to a
# resource of type t.
references_type(r, path, t) if {
	start := {{"m": module_names(r.module_address), "ref": _strip(ref)} | some ref in refs(r, path)}
	some n in _reach(start)
	startswith(n.ref, sprintf("%s.", [t]))
}

# r's attribute attr points at target instance: by known value; by a reference naming the
# target's instance key (aws_x.this["k"]); or by a key-less reference when target has no key
# or both share the same key (one for_each driving both).
linked_exact(r, attr, target) if {
	v := val(r, [attr])
	is_string(v)
	v != ""
	v in {object.get(target.after, "id", null), object.get(target.after, "arn", null), object.get(target.after, "bucket", null)}
}

linked_exact(r, attr, target) if {
	r.module_address == target.module_address
	some ref in refs(r, [attr])
	_ref_is(ref, _local(target))
}

linked_exact(r, attr, target) if {
	r.module_address == target.module_address
	_key(r) == _key(target)
	some ref in refs(r, [attr])
	ref == _strip(ref)
	_ref_is(ref, sprintf("%s.%s", [target.type, target.name]))
}

# Also key-less references to a for_each/count resource from an instance with another key,
# where the expression picks the instance at apply time: every instance matches.
#
# linked and linked_exact are the definitions; rules never loop over dependents and targets
# pairwise (quadratic in the plan) but ask linked_to / linked_exact_to for the targets of one
# dependent, which finds the same targets through indexes (test_links_equal_linked holds
# them equal).
linked(r, attr, target) if linked_exact(r, attr, target)

linked(r, attr, target) if {
	r.module_address == target.module_address
	base := sprintf("%s.%s", [target.type, target.name])
	some ref in refs(r, [attr])
	ref == _strip(ref)
	_ref_is(ref, base)
	not _keyed_ref(r, attr, base)
}

_keyed_ref(r, attr, base) if {
	some ref in refs(r, [attr])
	ref != _strip(ref)
	_ref_is(_strip(ref), base)
}

# The targets of type t that r's attribute attr links to: {x | linked(r, attr, x); x.type == t}.
linked_to(r, attr, t) := {x | some x in links(r, attr); x.type == t}

# {x | linked_exact(r, attr, x); x.type == t}.
linked_exact_to(r, attr, t) := {x | some x in links_exact(r, attr); x.type == t}

# Resources by known id, arn and bucket value; by module and address inside it
# (aws_x.this["k"]); by module and type.name.
_by_value[v] contains x if {
	some x in resources
	some k in ["id", "arn", "bucket"]
	v := object.get(x.after, k, null)
	is_string(v)
}

# By module and address inside it ([module, local] -> x) and by module and type.name: one
# object entry per resource, not a set per key (a multi-value rule holds about 1 KB per key in
# regorus: the peak memory of a large plan, issue 29), when no two resources share a module and
# local address (every real plan: Terraform's addresses are unique). A plan where two do
# falls back to multi-value indexes. The [module, local, base, x] of each resource, computed once.
_placed := [[x.module_address, _local(x), _base(x), x] | some x in resources]

_unique_local if count({[m, l] | some [m, l, _, _] in _placed}) == count(resources)

_local_object := {[m, l]: x | _unique_local; some [m, l, _, x] in _placed}

# The resources of _local_object whose local address is their type.name.
_plain_object := {[m, l]: x | _unique_local; some [m, l, b, x] in _placed; l == b}

_by_local_shared[k] contains x if {
	not _unique_local
	some x in resources
	k := [x.module_address, _local(x)]
}

_base(x) := sprintf("%s.%s", [x.type, x.name])

# By module and type.name, the resources _plain_object does not hold: keyed instances
# (aws_x.this["k"]) and addresses that are not type.name; every resource when local addresses
# repeat. _plain_object[[m, p]] and _by_base_other[[m, p]] are the resources of module m named p.
_by_base_other[k] contains x if {
	some [m, l, b, x] in _placed
	l != b
	k := [m, b]
}

_by_base_other[k] contains x if {
	not _unique_local
	some x in resources
	k := [x.module_address, _base(x)]
}

# The p with _ref_is(s, p): s itself and s cut before each ".".
_ref_prefixes(s) := {s} | {substring(s, 0, i) | some i in indexof_n(s, ".")}

_string_refs(r, attr) := [ref | some ref in refs(r, [attr]); is_string(ref)]

# Every x with linked_exact(r, attr, x).
links_exact(r, attr) := _links_exact(r, _ref_parts(r, attr), _by_known_value(r, attr))

# [ref, whether it names no instance key, every p with _ref_is(ref, p)] of each string
# reference of r's attribute attr: computed once per lookup, shared by every index probe
# below (functions are not memoized; each call costs).
_ref_parts(r, attr) := [[ref, ref == _strip(ref), _ref_prefixes(ref)] | some ref in _string_refs(r, attr)]

_links_exact(r, parts, known) := (((known | {x |
	some [_, _, prefixes] in parts
	some p in prefixes
	x := _local_object[[r.module_address, p]]
}) | {x |
	some [_, _, prefixes] in parts
	some p in prefixes
	some x in _by_local_shared[[r.module_address, p]]
}) | {x |
	some [_, true, prefixes] in parts
	kr := _key(r)
	some p in prefixes
	x := _plain_object[[r.module_address, p]]
	kr == _key(x)
}) | {x |
	some [_, true, prefixes] in parts
	kr := _key(r)
	some p in prefixes
	some x in _by_base_other[[r.module_address, p]]
	kr == _key(x)
}

_by_known_value(r, attr) := {x |
	v := val(r, [attr])
	is_string(v)
	v != ""
	some x in _by_value[v]
}

# Every x with linked(r, attr, x).
links(r, attr) := _links(r, attr, _ref_parts(r, attr))

_links(r, attr, parts) := (_links_exact(r, parts, _by_known_value(r, attr)) | {x |
	some [_, true, prefixes] in parts
	some p in prefixes
	x := _plain_object[[r.module_address, p]]
	not _keyed_part(parts, p)
}) | {x |
	some [_, true, prefixes] in parts
	some p in prefixes
	some x in _by_base_other[[r.module_address, p]]
	not _keyed_part(parts, p)
}

# _keyed_ref(r, attr, base) from r's reference parts.
_keyed_part(parts, base) if {
	some [ref, false, _] in parts
	_ref_is(_strip(ref), base)
}

# Address inside its module: aws_x.this["k"].
_local(x) := substring(x.address, count(x.module_address) + 1, -1) if x.module_address != ""

_local(x) := x.address if x.module_address == ""

_key(x) := regex.find_n(`\[[^\]]*\]$`, _local(x), 1)

_ref_is(s, p) if s == p

_ref_is(s, p) if startswith(s, concat("", [p, "."]))

# Strings only: regorus string builtins reject other types instead of being undefined.
str(x) := x if {
	is_string(x)
} else := ""

# Regorus rejects iteration over null, so optional collections go through arr.
arr(x) := x if {
	is_array(x)
} else := []

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

policy_doc(s) := json.unmarshal(s) if {
	is_string(s)
	json.is_valid(s)
}

policy_doc(s) := s if is_object(s)

statements(doc) := [s | some s in as_list(object.get(doc, "Statement", [])); is_object(s)]

# A value that must be set, known or traced: unknown without a trace to kind t.
unverifiable_ref(r, path, t) if {
	unknown(r, path)
	not references_type(r, path, t)
}

# Set, known and non-empty.
present(r, path) if {
	v := val(r, path)
	v != null
	v != ""
}

# Buckets holding the log archive.
archive_buckets contains b if {
	some b in of_type("aws_s3_bucket")
	_is_archive(b)
}

_is_archive(b) if {
	some k in ["Purpose", "Role"]
	tag(b, k) == "log-archive"
}

_is_archive(b) if contains(str(val(b, ["bucket"])), "log-archive")

_is_archive(b) if {
	some m in module_names(b.module_address)
	m in {"log_archive", "log-archive"}
}

# Computed once per evaluation: functions are not memoized.
_archive_locks[b.address] contains c if {
	some c in of_type("aws_s3_bucket_object_lock_configuration")
	some b in linked_to(c, "bucket", "aws_s3_bucket")
	_is_archive(b)
}

archive_lock_configs(b) := x if {
	x := _archive_locks[b.address]
} else := set()

private_tiers := {"trading", "data"}

private_subnets contains s if {
	some s in of_type("aws_subnet")
	tag(s, "Tier") in private_tiers
}

# deployer / break-glass, from the Role tag or the role name.
privileged_kinds(r) := {k |
	some k, needles in {"deployer": ["deployer"], "break-glass": ["break-glass", "breakglass", "break_glass"]}
	some n in needles
	some text in [lower(str(tag(r, "Role"))), lower(str(val(r, ["name"])))]
	contains(text, n)
}

# The plan carries Terraform's configuration section (references between resources).
has_configuration if is_object(object.get(_obj(input.configuration), "root_module", null))

# A dependent resource of type t in target's module whose attr is unknown until apply and
# cannot be followed: the plan has no configuration, or the expression goes through a local
# value (Terraform's configuration JSON does not record locals' expressions). Whether it
# names target is then unverifiable, not a violation.
maybe_linked(t, attr, target) if [t, attr, target.module_address] in _maybe_links

# [type, attribute, module] of every resource whose top-level attribute is unknown and
# cannot be followed, computed once per evaluation. With a configuration, only the attributes
# the configuration sets can name a local value: those are walked (few per resource), not every
# unknown attribute (most of them are computed ids and ARNs).
_maybe_links contains [d.type, attr, d.module_address] if {
	not has_configuration
	some d in resources
	some attr, u in d.unknown
	u == true
}

_maybe_links contains [d.type, attr, d.module_address] if {
	has_configuration
	some d in resources
	some attr, _ in _obj(object.get(_configs, [d.address, "expressions"], {}))
	object.get(d.unknown, attr, false) == true
	some ref in refs(d, [attr])
	startswith(ref, "local.")
}

unlinked(address, what) := unverifiable_finding(
	address,
	sprintf("%s may belong to this resource, but the plan's configuration does not show which resource it refers to", [what]),
)

# Inline blocks of provider v3 and earlier (aws_s3_bucket versioning, encryption, logging,
# object lock): the list at path, empty when absent, null or unknown.
blocks(r, path) := [b | some b in arr(val(r, path)); is_object(b)]

# IAM policy documents that grant permissions: [resource, path of the document]. A managed
# policy used only as a permissions boundary (attached by nothing) grants nothing itself.
_iam_policy_types := {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_group_policy", "aws_iam_user_policy"}

policy_documents contains [r, ["policy"]] if {
	some r in resources
	r.type in _iam_policy_types
	not boundary_only(r)
}

policy_attachment_types := {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_user_policy_attachment"}

boundary_only(p) if {
	p.type == "aws_iam_policy"
	p.address in _boundaries
	not p.address in _attached_policies
}

_boundaries contains p.address if {
	some role in of_type("aws_iam_role")
	some p in _policies_referred(role, "permissions_boundary")
}

_attached_policies contains p.address if {
	some a in resources
	a.type in policy_attachment_types
	some p in _policies_referred(a, "policy_arn")
}

# The aws_iam_policy resources r's attribute attr refers to: linked, or an ARN ending in
# :policy<path><name> of the policy.
_policies_referred(r, attr) := linked_to(r, attr, "aws_iam_policy") | {p |
	s := str(val(r, [attr]))
	some i in indexof_n(s, ":policy")
	some p in _policies_by_suffix[substring(s, i, -1)]
}

_policies_by_suffix[k] contains p if {
	some p in of_type("aws_iam_policy")
	k := sprintf(":policy%s%s", [_policy_path(p), str(val(p, ["name"]))])
}

_policy_path(p) := x if {
	x := val(p, ["path"])
	is_string(x)
} else := "/"

policy_documents contains [r, ["inline_policy", i, "policy"]] if {
	some r in of_type("aws_iam_role")
	some i, _ in arr(val(r, ["inline_policy"]))
}


# Allow statements of a policy document (JSON text or object).
allow_statements(doc) := [s | some s in statements(policy_doc(doc)); s.Effect == "Allow"]

# [r, path, s]: every Allow statement s of every policy document known at plan time, each
# document parsed once per evaluation (functions are not memoized: the IAM rules' bodies each
# parsed every document again).
known_allow_statements contains [r, path, s] if {
	some [r, path] in policy_documents
	not unknown(r, path)
	some s in allow_statements(val(r, path))
}

# The control table (policies/controls.toml, loaded by lz-policy as data.lz.controls): the
# value the attribute at path of a resource type must equal.
default controls := []

controls := data.lz.controls

required(type, path) := c.equals if {
	some c in controls
	c.type == type
	c.path == path
}

# Buckets holding Terraform state.
state_buckets contains b if {
	some b in of_type("aws_s3_bucket")
	_is_state(b)
}

_is_state(b) if {
	some k in ["Purpose", "Role"]
	tag(b, k) in {"terraform-state", "tfstate"}
}

_is_state(b) if contains(str(val(b, ["bucket"])), "tfstate")

_is_state(b) if {
	some m in module_names(b.module_address)
	m in {"state_backend", "state-backend"}
}

# aws_s3_bucket_logging resources and v3 inline logging blocks naming b as their source:
# [resource, target bucket name or null when unknown].
access_logging(b) := _logging_entries(b) | {[b.address, object.get(x, "target_bucket", null)] |
	some x in blocks(b, ["logging"])
}

_logging_entries(b) := x if {
	x := _logging_of[b.address]
} else := set()

_logging_of[b.address] contains [l.address, object.get(l.after, "target_bucket", null)] if {
	some l in of_type("aws_s3_bucket_logging")
	some b in linked_to(l, "bucket", "aws_s3_bucket")
}

# b receives server access logs: a logging resource names it (by value or reference) as
# its target bucket.
access_log_target(b) if b.address in _log_targets

access_log_target(b) if val(b, ["bucket"]) in _inline_log_targets

_log_targets contains b.address if {
	some l in of_type("aws_s3_bucket_logging")
	some b in linked_to(l, "target_bucket", "aws_s3_bucket")
}

_inline_log_targets contains object.get(blk, "target_bucket", null) if {
	some x in of_type("aws_s3_bucket")
	some blk in blocks(x, ["logging"])
}

# The region of a resource: its own region argument (provider v6), or the region of the
# plan's root region variable. Undefined when neither is known.
region_of(r) := x if {
	x := val(r, ["region"])
	is_string(x)
	x != ""
}

region_of(r) := x if {
	not is_string(val(r, ["region"]))
	x := input.variables.region.value
	is_string(x)
}

# A route table with a route to an internet gateway: an inline route, or an aws_route naming
# the table exactly, whose gateway_id is an igw- id or refers to an aws_internet_gateway.
igw_routed(rt) if {
	some i, _ in arr(val(rt, ["route"]))
	is_igw(rt, ["route", i, "gateway_id"])
}

igw_routed(rt) if rt.address in _igw_tables_exact

# A route resource whose link to the table depends on an instance key chosen at apply time.
maybe_igw_routed(rt) if rt.address in _igw_tables

# Route tables with an internet gateway route resource, computed once per evaluation.
_igw_tables_exact contains rt.address if {
	some r in _igw_routes
	some rt in linked_exact_to(r, "route_table_id", "aws_route_table")
}

_igw_tables contains rt.address if {
	some r in _igw_routes
	some rt in linked_to(r, "route_table_id", "aws_route_table")
}

_igw_routes contains r if {
	some r in of_type("aws_route")
	is_igw(r, ["gateway_id"])
}

is_igw(r, path) if startswith(str(val(r, path)), "igw-")

is_igw(r, path) if references_type(r, path, "aws_internet_gateway")

