# METADATA
# title: Trading and data subnets have no internet gateway route
# description: >-
#   No route table tagged Tier trading or data (or, for a table without a Tier tag, associated
#   with a trading or data subnet) routes to an internet gateway: inline route blocks or
#   aws_route resources whose gateway_id starts with igw- or refers to an
#   aws_internet_gateway. A link that depends on an instance key chosen at apply time is
#   unverifiable.
# custom:
#   id: LZ-NET-005
#   severity: high
#   remediation: >-
#     Route the subnet's table through a NAT gateway or VPC endpoints, never an internet
#     gateway; only ingress-tier subnets route to the internet gateway
#   controls:
#     - DORA-Art9-4c
package lz.rules.network.igw_routes

import data.lz.lib

deny contains f if {
	some rt in lib.of_type("aws_route_table")
	_private_table(rt)
	lib.igw_routed(rt)
	f := lib.finding(rt.address, "route table of a trading or data subnet routes to an internet gateway")
}

deny contains f if {
	some rt in lib.of_type("aws_route_table")
	_private_table(rt)
	not lib.igw_routed(rt)
	lib.maybe_igw_routed(rt)
	f := lib.unverifiable(rt.address, "route_table_id of an internet gateway route")
}

deny contains f if {
	some rt in lib.of_type("aws_route_table")
	not _private_table(rt)
	_maybe_private_table(rt)
	lib.igw_routed(rt)
	f := lib.unverifiable(rt.address, "route_table_id of a subnet association")
}

_private_table(rt) if lib.tag(rt, "Tier") in lib.private_tiers

_private_table(rt) if {
	lib.tag(rt, "Tier") == ""
	rt.address in _private_associated_exact
}

_maybe_private_table(rt) if {
	lib.tag(rt, "Tier") == ""
	rt.address in _private_associated
}

# Route tables associated with a private subnet, computed once per evaluation (functions
# are not memoized).
_private_associated_exact contains rt.address if {
	some a in _private_associations
	some rt in lib.linked_exact_to(a, "route_table_id", "aws_route_table")
}

_private_associated contains rt.address if {
	some a in _private_associations
	some rt in lib.linked_to(a, "route_table_id", "aws_route_table")
}

_private_associations contains a if {
	some a in lib.of_type("aws_route_table_association")
	some s in lib.linked_to(a, "subnet_id", "aws_subnet")
	s in lib.private_subnets
}
