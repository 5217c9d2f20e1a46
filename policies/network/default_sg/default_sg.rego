# METADATA
# title: Default security groups have no rules
# description: >-
#   Every aws_vpc has its default security group managed by an aws_default_security_group
#   with no ingress and no egress rules (absent rules mean the provider removes them all).
# custom:
#   id: LZ-NET-002
#   severity: high
#   remediation: >-
#     Declare the aws_default_security_group with no ingress and no egress blocks
#   controls:
#     - CIS-AWS-5.4
package lz.rules.network.default_sg

import data.lz.lib

deny contains f if {
	some v in lib.of_type("aws_vpc")
	not _managed(v)
	not lib.maybe_linked("aws_default_security_group", "vpc_id", v)
	f := lib.finding(v.address, "VPC default security group is not managed by an aws_default_security_group without rules")
}

deny contains f if {
	some g in lib.of_type("aws_default_security_group")
	some dir in ["ingress", "egress"]
	not lib.unknown(g, [dir])
	count(_rules(g, dir)) > 0
	f := lib.finding(g.address, sprintf("default security group has %s rules", [dir]))
}

# Rules left out of the configuration plan as unknown (the provider computes them) but are
# removed on adoption: only rules configured from values unknown until apply are unverifiable.
deny contains f if {
	some g in lib.of_type("aws_default_security_group")
	some dir in ["ingress", "egress"]
	lib.unknown(g, [dir])
	lib.has_config_attr(g, dir)
	f := lib.unverifiable(g.address, dir)
}

deny contains f if {
	some v in lib.of_type("aws_vpc")
	not _managed(v)
	lib.maybe_linked("aws_default_security_group", "vpc_id", v)
	f := lib.unlinked(v.address, "aws_default_security_group")
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains v.address if {
	some g in lib.of_type("aws_default_security_group")
	some v in lib.linked_to(g, "vpc_id", "aws_vpc")
}

_managed(v) if v.address in _linked_targets

_rules(g, dir) := x if {
	x := lib.val(g, [dir])
	is_array(x)
} else := []
