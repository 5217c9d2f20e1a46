package lz.rules.network.public_subnets

import data.lz.testing as t

_public(name) := t.rc("aws_subnet", name, {"tags": {"Tier": "ingress"}, "map_public_ip_on_launch": true})

_workload(type, name, after) := t.rc(type, name, object.union({"tags": {"Tier": "trading"}}, after))

test_public_subnet_hosting_trading_instance_by_reference_denied if {
	w := _workload("aws_instance", "matcher", {})
	plan := t.plan_cfg([_public("edge"), w], [t.cfg("aws_instance", "matcher", {"subnet_id": t.ref(["aws_subnet.edge.id", "aws_subnet.edge"])})])
	fs := deny with input as plan
	{f.message | some f in fs} == {"subnet maps public IPs on launch and hosts trading workload aws_instance.matcher"}
}

test_public_subnet_hosting_trading_service_by_id_denied if {
	s := t.rc("aws_subnet", "edge", {"id": "subnet-1", "tags": {"Tier": "ingress"}, "map_public_ip_on_launch": true})
	w := _workload("aws_ecs_service", "gateway", {"network_configuration": [{"subnets": ["subnet-0", "subnet-1"]}]})
	fs := deny with input as t.plan([s, w])
	{f.address | some f in fs} == {"aws_subnet.edge"}
}

test_public_subnet_hosting_other_workloads_passes if {
	w := t.rc("aws_instance", "bastion", {"tags": {"Tier": "ingress"}})
	plan := t.plan_cfg([_public("edge"), w], [t.cfg("aws_instance", "bastion", {"subnet_id": t.ref(["aws_subnet.edge.id", "aws_subnet.edge"])})])
	count(deny) == 0 with input as plan
}

test_private_subnet_hosting_trading_workload_passes if {
	s := t.rc("aws_subnet", "inner", {"tags": {"Tier": "ingress"}, "map_public_ip_on_launch": false})
	w := _workload("aws_instance", "matcher", {})
	plan := t.plan_cfg([s, w], [t.cfg("aws_instance", "matcher", {"subnet_id": t.ref(["aws_subnet.inner.id", "aws_subnet.inner"])})])
	count(deny) == 0 with input as plan
}

test_igw_routed_subnet_hosting_trading_instance_denied if {
	s := t.rc("aws_subnet", "edge", {"tags": {"Tier": "ingress"}, "map_public_ip_on_launch": false})
	rt := t.rc("aws_route_table", "edge", {"route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}]})
	a := t.rc("aws_route_table_association", "edge", {})
	w := _workload("aws_instance", "matcher", {})
	plan := t.plan_cfg([s, rt, a, w], [
		t.cfg("aws_route_table_association", "edge", {"subnet_id": t.ref(["aws_subnet.edge.id", "aws_subnet.edge"]), "route_table_id": t.ref(["aws_route_table.edge.id", "aws_route_table.edge"])}),
		t.cfg("aws_instance", "matcher", {"subnet_id": t.ref(["aws_subnet.edge.id", "aws_subnet.edge"])}),
	])
	fs := deny with input as plan
	{f.message | some f in fs} == {"subnet routes to an internet gateway (aws_route_table.edge) and hosts trading workload aws_instance.matcher"}
}
