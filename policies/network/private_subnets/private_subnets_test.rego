package lz.rules.network.private_subnets

import data.lz.testing as t

_subnet(tier, public) := t.rc("aws_subnet", tier, {"tags": {"Tier": tier}, "map_public_ip_on_launch": public})

test_private_subnets_pass if {
	count(deny) == 0 with input as t.plan([_subnet("trading", false), _subnet("data", false), _subnet("ingress", true)])
}

test_public_trading_subnet_denied if {
	fs := deny with input as t.plan([_subnet("trading", true), _subnet("ingress", true)])
	{f.message | some f in fs} == {"trading subnet maps public IPs on launch"}
}

test_unknown_unverifiable if {
	s := t.rcu("aws_subnet", "data", {"tags": {"Tier": "data"}}, {"map_public_ip_on_launch": true})
	some f in deny with input as t.plan([s])
	startswith(f.message, "unverifiable:")
}
