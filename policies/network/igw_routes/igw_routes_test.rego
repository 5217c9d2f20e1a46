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

# The network module's shape: one route to the internet gateway, keyed to the ingress table.
_tables := [
	t.rcm("network", "aws_route_table", `this["ingress"]`, {"tags": {"Tier": "ingress"}}, {"id": true}),
	t.rcm("network", "aws_route_table", `this["trading"]`, {"tags": {"Tier": "trading"}}, {"id": true}),
]

_net_plan(route_refs) := object.union(t.plan(array.concat(
	[object.union(t.rcm("network", "aws_route", "this", {"destination_cidr_block": "0.0.0.0/0"}, {"route_table_id": true, "gateway_id": true}), {"name": "this"})],
	[object.union(x, {"name": "this"}) | some x in _tables],
)), {"configuration": {"root_module": {"module_calls": {"network": {"module": {"resources": [t.cfg("aws_route", "this", {
	"gateway_id": t.ref(["aws_internet_gateway.this.id", "aws_internet_gateway.this"]),
	"route_table_id": t.ref(route_refs),
})]}}}}}})

test_route_keyed_to_ingress_table_passes if {
	count(deny) == 0 with input as _net_plan([`aws_route_table.this["ingress"].id`, `aws_route_table.this["ingress"]`, "aws_route_table.this"])
}

test_route_keyed_to_trading_table_denied if {
	fs := deny with input as _net_plan([`aws_route_table.this["trading"].id`, `aws_route_table.this["trading"]`, "aws_route_table.this"])
	{f.address | some f in fs} == {`module.network.aws_route_table.this["trading"]`}
}

test_route_with_key_chosen_at_apply_unverifiable if {
	fs := deny with input as _net_plan(["aws_route_table.this", "each.key"])
	{f.message | some f in fs} == {"unverifiable: route_table_id of an internet gateway route is unknown until apply and is not traced to a resource of the required kind"}
}

test_untagged_table_ambiguously_associated_unverifiable if {
	s := t.rc("aws_subnet", `this["trading-a"]`, {"tags": {"Tier": "trading"}})
	rt := t.rc("aws_route_table", `this["x"]`, {"route": [{"gateway_id": "igw-1"}]})
	a := t.rcu("aws_route_table_association", `this["trading-a"]`, {}, {"route_table_id": true, "subnet_id": true})
	plan := t.plan_cfg(
		[object.union(s, {"name": "this"}), object.union(rt, {"name": "this"}), object.union(a, {"name": "this"})],
		[t.cfg("aws_route_table_association", "this", {"route_table_id": t.ref(["aws_route_table.this", "each.value.tier"]), "subnet_id": t.ref(["aws_subnet.this", "each.key"])})],
	)
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
	f.address == `aws_route_table.this["x"]`
}
