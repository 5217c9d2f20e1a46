# METADATA
# title: No ingress from the whole internet except HTTPS on the ingress tier
# description: >-
#   Security group rules (inline ingress blocks, aws_security_group_rule of type ingress,
#   aws_vpc_security_group_ingress_rule) do not admit 0.0.0.0/0 or ::/0, except TCP 443 on
#   a resource whose Tier tag is ingress (the rule itself or its security group).
# custom:
#   id: LZ-NET-003
#   severity: critical
#   remediation: >-
#     Narrow the rule's source to a known CIDR or security group; only the ingress tier may
#     accept 0.0.0.0/0, and only on port 443
#   controls:
#     - CIS-AWS-5.2
#     - CIS-AWS-5.3
package lz.rules.network.open_ingress

import data.lz.lib

_open := {"0.0.0.0/0", "::/0"}

# Inline ingress blocks of aws_security_group.
deny contains f if {
	some g in lib.of_type("aws_security_group")
	some rule in lib.arr(lib.val(g, ["ingress"]))
	some cidr in array.concat(_list(object.get(rule, "cidr_blocks", [])), _list(object.get(rule, "ipv6_cidr_blocks", [])))
	cidr in _open
	not _allowed(rule.from_port, rule.to_port, rule.protocol, g)
	f := lib.finding(g.address, sprintf("ingress from %s on ports %v-%v", [cidr, rule.from_port, rule.to_port]))
}

deny contains f if {
	some r in lib.of_type("aws_security_group_rule")
	lib.val(r, ["type"]) == "ingress"
	some cidr in array.concat(_list(lib.val(r, ["cidr_blocks"])), _list(lib.val(r, ["ipv6_cidr_blocks"])))
	cidr in _open
	not _allowed(r.after.from_port, r.after.to_port, r.after.protocol, r)
	f := lib.finding(r.address, sprintf("ingress from %s on ports %v-%v", [cidr, r.after.from_port, r.after.to_port]))
}

deny contains f if {
	some r in lib.of_type("aws_vpc_security_group_ingress_rule")
	some attr in ["cidr_ipv4", "cidr_ipv6"]
	cidr := lib.val(r, [attr])
	cidr in _open
	not _allowed(lib.val(r, ["from_port"]), lib.val(r, ["to_port"]), lib.val(r, ["ip_protocol"]), r)
	f := lib.finding(r.address, sprintf("ingress from %s on ports %v-%v", [cidr, lib.val(r, ["from_port"]), lib.val(r, ["to_port"])]))
}

deny contains f if {
	some r in lib.of_type("aws_vpc_security_group_ingress_rule")
	some attr in ["cidr_ipv4", "cidr_ipv6"]
	lib.unknown(r, [attr])
	f := lib.unverifiable(r.address, attr)
}

# The ingress attribute is unknown when it is computed from separate rule resources
# (aws_security_group_rule, aws_vpc_security_group_ingress_rule): those rules are judged
# above. It is unverifiable only where the configuration sets inline ingress from values
# unknown until apply, or, without configuration, where no separate rule targets the group.
deny contains f if {
	some g in lib.of_type("aws_security_group")
	lib.unknown(g, ["ingress"])
	_inline_ingress_unknown(g)
	f := lib.unverifiable(g.address, "ingress")
}

_rule_types := {"aws_security_group_rule", "aws_vpc_security_group_ingress_rule"}

_inline_ingress_unknown(g) if lib.has_config_attr(g, "ingress")

_inline_ingress_unknown(g) if {
	not lib.has_configuration
	not _has_separate_rules(g)
}

_has_separate_rules(g) if g.address in _groups_with_rules

_has_separate_rules(g) if {
	not lib.has_configuration
	g.module_address in _modules_with_unknown_rules
}

# Computed once per evaluation (functions are not memoized).
_groups_with_rules contains g.address if {
	some t in _rule_types
	some r in lib.of_type(t)
	some g in lib.linked_to(r, "security_group_id", "aws_security_group")
}

_modules_with_unknown_rules contains r.module_address if {
	some t in _rule_types
	some r in lib.of_type(t)
	lib.unknown(r, ["security_group_id"])
}

deny contains f if {
	some r in lib.of_type("aws_security_group_rule")
	lib.val(r, ["type"]) == "ingress"
	some attr in ["cidr_blocks", "ipv6_cidr_blocks"]
	lib.unknown(r, [attr])
	f := lib.unverifiable(r.address, attr)
}

_list(x) := x if is_array(x)

_list(x) := [] if not is_array(x)

_allowed(from, to, protocol, r) if {
	from == 443
	to == 443
	lower(sprintf("%v", [protocol])) in {"tcp", "6"}
	_ingress_tier(r)
}

_ingress_tier(r) if lib.tag(r, "Tier") == "ingress"

_ingress_tier(r) if {
	some g in lib.linked_to(r, "security_group_id", "aws_security_group")
	lib.tag(g, "Tier") == "ingress"
}
