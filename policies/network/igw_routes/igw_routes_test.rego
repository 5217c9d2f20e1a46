package lz.rules.network.igw_routes

import data.lz.testing as t

_subnet := t.rc("aws_subnet", "trading", {"id": "subnet-1", "tags": {"Tier": "trading"}})

_assoc := t.rc("aws_route_table_association", "trading", {"subnet_id": "subnet-1", "route_table_id": "rtb-1"})

_table(gw) := t.rc("aws_route_table", "trading", {"id": "rtb-1", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": gw}]})

test_nat_route_passes if {
	count(deny) == 0 with input as t.plan([_subnet, _assoc, _table("nat-1")])
}

test_inline_igw_route_denied if {
	fs := deny with input as t.plan([_subnet, _assoc, _table("igw-1")])
	{f.address | some f in fs} == {"aws_route_table.trading"}
}

test_public_table_not_associated_passes if {
	count(deny) == 0 with input as t.plan([_subnet, _table("igw-1")])
}

test_aws_route_referencing_igw_on_tagged_table_denied if {
	rt := t.rcu("aws_route_table", "data", {"tags": {"Tier": "data"}}, {"id": true})
	r := t.rcu("aws_route", "data_default", {"destination_cidr_block": "0.0.0.0/0"}, {"route_table_id": true, "gateway_id": true})
	plan := t.plan_cfg([rt, r], [t.cfg("aws_route", "data_default", {
		"route_table_id": t.ref(["aws_route_table.data.id", "aws_route_table.data"]),
		"gateway_id": t.ref(["aws_internet_gateway.this.id", "aws_internet_gateway.this"]),
	})])
	fs := deny with input as plan
	{f.address | some f in fs} == {"aws_route_table.data"}
}
