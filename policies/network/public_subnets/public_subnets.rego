# METADATA
# title: Public subnets do not host trading workloads
# description: >-
#   A public subnet (it maps public IPs on launch, or its route table, associated by an exact
#   link, routes to an internet gateway) hosts no trading workload: an instance, network
#   interface, ECS service, Lambda function, EKS node group, load balancer or DB subnet group
#   whose Tier tag is trading and that names the subnet by a known id or a reference, whatever
#   the subnet's own tag. Trading and data subnets themselves are LZ-NET-004.
# custom:
#   id: LZ-NET-006
#   severity: high
#   remediation: >-
#     Place the service in the trading or data tier (tier in its services entry); public
#     subnets host only the ingress tier
#   controls:
#     - CIS-AWS-5.6
#     - DORA-Art9-4c
package lz.rules.network.public_subnets

import data.lz.lib

# Workloads and where they name their subnets: [type, path of a subnet id or list of ids].
_placements := [
	["aws_instance", ["subnet_id"]],
	["aws_network_interface", ["subnet_id"]],
	["aws_ecs_service", ["network_configuration", 0, "subnets"]],
	["aws_lambda_function", ["vpc_config", 0, "subnet_ids"]],
	["aws_eks_node_group", ["subnet_ids"]],
	["aws_lb", ["subnets"]],
	["aws_db_subnet_group", ["subnet_ids"]],
]

_trading_workloads contains [w, path] if {
	some [type, path] in _placements
	some w in lib.of_type(type)
	lib.tag(w, "Tier") == "trading"
}

# w names subnet s at path: a known id, or a reference to s in the same module.
_hosts(w, path, s) if {
	some id in lib.as_list(lib.val(w, path))
	is_string(id)
	id != ""
	id == object.get(s.after, "id", null)
}

_hosts(w, path, s) if {
	w.module_address == s.module_address
	some ref in lib.refs(w, path)
	lib._ref_is(lib._strip(ref), sprintf("%s.%s", [s.type, s.name]))
}

# Why a subnet is public: [subnet address, reason]. It maps public IPs on launch, or its
# route table (associated by an exact link) routes to an internet gateway.
_public contains [s.address, "maps public IPs on launch"] if {
	some s in lib.of_type("aws_subnet")
	lib.val(s, ["map_public_ip_on_launch"]) == true
}

_public contains [s.address, sprintf("routes to an internet gateway (%s)", [rt.address])] if {
	some a in lib.of_type("aws_route_table_association")
	some rt in lib.linked_exact_to(a, "route_table_id", "aws_route_table")
	lib.igw_routed(rt)
	some s in lib.linked_to(a, "subnet_id", "aws_subnet")
}

deny contains f if {
	some [address, why] in _public
	some s in lib.of_type("aws_subnet")
	s.address == address
	not s in lib.private_subnets
	some [w, path] in _trading_workloads
	_hosts(w, path, s)
	f := lib.finding(s.address, sprintf("subnet %s and hosts trading workload %s", [why, w.address]))
}
