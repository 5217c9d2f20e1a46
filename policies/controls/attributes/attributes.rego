# METADATA
# title: Control attributes hold their required values
# description: >-
#   Every row of policies/controls.toml whose rule is LZ-CTL-001 holds on every resource of
#   its type: equals (the value, where null or absent is a violation), set (known or known
#   after apply, not null or empty), at_least / at_most (a known number within the bound).
#   A value unknown until apply is unverifiable for equals and the bounds. A row with
#   except_purpose does not apply in a module whose bucket carries that Purpose tag. The other rows
#   belong to the specific rules named in the table, which read their values from it.
# custom:
#   id: LZ-CTL-001
#   severity: high
#   remediation: >-
#     Set the attribute to the value policies/controls.toml requires for this resource type
#     (see the finding's message), in the module that declares it
#   controls:
#     - NIST-800-53-CM-6
#     - DORA-Art9
package lz.rules.controls.attributes

import data.lz.lib

_mine contains c if {
	some c in lib.controls
	c.rule == "LZ-CTL-001"
}

_where(c) := concat(".", [sprintf("%v", [p]) | some p in c.path])

deny contains f if {
	some c in _mine
	object.get(c, "equals", null) != null
	some r in lib.of_type(c.type)
	not _excepted(c, r)
	not lib.unknown(r, c.path)
	lib.val(r, c.path) != c.equals
	f := lib.finding(r.address, sprintf("%s is %v, must be %v", [_where(c), lib.val(r, c.path), c.equals]))
}

deny contains f if {
	some c in _mine
	object.get(c, "set", false) == true
	some r in lib.of_type(c.type)
	not _excepted(c, r)
	not lib.unknown(r, c.path)
	not lib.present(r, c.path)
	f := lib.finding(r.address, sprintf("%s is not set", [_where(c)]))
}

deny contains f if {
	some c in _mine
	bound := object.get(c, "at_least", null)
	bound != null
	some r in lib.of_type(c.type)
	not _excepted(c, r)
	not lib.unknown(r, c.path)
	not _at_least(lib.val(r, c.path), bound)
	f := lib.finding(r.address, sprintf("%s is %v, below %v", [_where(c), lib.val(r, c.path), bound]))
}

deny contains f if {
	some c in _mine
	bound := object.get(c, "at_most", null)
	bound != null
	some r in lib.of_type(c.type)
	not _excepted(c, r)
	not lib.unknown(r, c.path)
	not _at_most(lib.val(r, c.path), bound)
	f := lib.finding(r.address, sprintf("%s is %v, above %v", [_where(c), lib.val(r, c.path), bound]))
}

deny contains f if {
	some c in _mine
	not object.get(c, "set", false) == true
	some r in lib.of_type(c.type)
	not _excepted(c, r)
	lib.unknown(r, c.path)
	f := lib.unverifiable(r.address, _where(c))
}

_at_least(x, b) if {
	is_number(x)
	x >= b
}

_at_most(x, b) if {
	is_number(x)
	x <= b
}

# A row with except_purpose does not apply in a module whose bucket carries that Purpose tag.
_excepted(c, r) if {
	purpose := object.get(c, "except_purpose", null)
	is_string(purpose)
	[r.module_address, purpose] in _purposes
}

# [module, Purpose tag] of every bucket, computed once per evaluation: a lookup per resource,
# never a loop over the buckets (quadratic in the plan).
_purposes contains [b.module_address, lib.tag(b, "Purpose")] if {
	some b in lib.of_type("aws_s3_bucket")
}
