package lz.rules.network.open_ingress

import data.lz.testing as t

_sg(tier, port, cidr) := t.rc("aws_security_group", "web", {
	"tags": {"Tier": tier},
	"ingress": [{"from_port": port, "to_port": port, "protocol": "tcp", "cidr_blocks": [cidr], "ipv6_cidr_blocks": []}],
})

test_https_on_ingress_tier_passes if {
	count(deny) == 0 with input as t.plan([_sg("ingress", 443, "0.0.0.0/0")])
}

test_private_cidr_passes if {
	count(deny) == 0 with input as t.plan([_sg("trading", 22, "10.0.0.0/8")])
}

test_https_on_trading_tier_denied if {
	fs := deny with input as t.plan([_sg("trading", 443, "0.0.0.0/0")])
	{f.message | some f in fs} == {"ingress from 0.0.0.0/0 on ports 443-443"}
}

test_ssh_from_internet_denied_everywhere if {
	some f in deny with input as t.plan([_sg("ingress", 22, "0.0.0.0/0")])
	f.address == "aws_security_group.web"
}

test_security_group_rule_ipv6_denied if {
	r := t.rc("aws_security_group_rule", "ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "ipv6_cidr_blocks": ["::/0"]})
	some f in deny with input as t.plan([r])
	f.address == "aws_security_group_rule.ssh"
}

test_vpc_ingress_rule_via_linked_group if {
	g := t.rc("aws_security_group", "alb", {"id": "sg-1", "tags": {"Tier": "ingress"}})
	ok := t.rc("aws_vpc_security_group_ingress_rule", "https", {"security_group_id": "sg-1", "cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443, "ip_protocol": "tcp"})
	bad := t.rc("aws_vpc_security_group_ingress_rule", "http", {"security_group_id": "sg-1", "cidr_ipv4": "0.0.0.0/0", "from_port": 80, "to_port": 80, "ip_protocol": "tcp"})
	fs := deny with input as t.plan([g, ok, bad])
	{f.address | some f in fs} == {"aws_vpc_security_group_ingress_rule.http"}
}

test_unknown_cidr_unverifiable if {
	r := t.rcu("aws_vpc_security_group_ingress_rule", "x", {"from_port": 443, "to_port": 443, "ip_protocol": "tcp"}, {"cidr_ipv4": true})
	g := t.rcu("aws_security_group", "y", {}, {"ingress": true})
	fs := deny with input as t.plan([r, g])
	{f.address | some f in fs} == {"aws_vpc_security_group_ingress_rule.x", "aws_security_group.y"}
}

test_separate_rules_judge_group_with_computed_ingress if {
	g := t.rcu("aws_security_group", "app", {"tags": {"Tier": "trading"}}, {"id": true, "ingress": true})
	r := t.rcu("aws_security_group_rule", "ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}, {"security_group_id": true})
	fs := deny with input as t.plan([g, r])
	{f.address | some f in fs} == {"aws_security_group_rule.ssh"}
}

test_configuration_without_inline_ingress_is_not_unverifiable if {
	g := t.rcu("aws_security_group", "app", {}, {"id": true, "ingress": true})
	r := t.rcu("aws_vpc_security_group_ingress_rule", "x", {"cidr_ipv4": "10.0.0.0/8", "from_port": 8443, "to_port": 8443, "ip_protocol": "tcp"}, {"security_group_id": true})
	plan := t.plan_cfg([g, r], [
		t.cfg("aws_security_group", "app", {"name": {"constant_value": "app"}}),
		t.cfg("aws_vpc_security_group_ingress_rule", "x", {"security_group_id": t.ref(["aws_security_group.app.id", "aws_security_group.app"])}),
	])
	count(deny) == 0 with input as plan
}

test_configured_inline_ingress_unknown_unverifiable if {
	g := t.rcu("aws_security_group", "app", {}, {"ingress": true})
	plan := t.plan_cfg([g], [t.cfg("aws_security_group", "app", {"ingress": t.ref(["var.rules"])})])
	some f in deny with input as plan
	startswith(f.message, "unverifiable:")
}

test_security_group_rule_unknown_cidr_unverifiable if {
	r := t.rcu("aws_security_group_rule", "x", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp"}, {"cidr_blocks": true})
	some f in deny with input as t.plan([r])
	startswith(f.message, "unverifiable:")
}
