package lz.rules.network.default_sg

import data.lz.testing as t

_vpc := t.rc("aws_vpc", "this", {"id": "vpc-1"})

_sg(after) := t.rc("aws_default_security_group", "this", object.union({"vpc_id": "vpc-1"}, after))

test_no_rules_passes if {
	count(deny) == 0 with input as t.plan([_vpc, _sg({})])
	count(deny) == 0 with input as t.plan([_vpc, _sg({"ingress": [], "egress": null})])
}

test_rules_denied if {
	fs := deny with input as t.plan([_vpc, _sg({"egress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 0, "to_port": 0, "protocol": "-1"}]})])
	{f.message | some f in fs} == {"default security group has egress rules"}
}

test_unmanaged_default_sg_denied if {
	fs := deny with input as t.plan([_vpc])
	{f.address | some f in fs} == {"aws_vpc.this"}
}

test_unknown_rules_unverifiable if {
	g := t.rcu("aws_default_security_group", "this", {"vpc_id": "vpc-1"}, {"ingress": true})
	cfg := [t.cfg("aws_default_security_group", "this", {"ingress": t.ref(["var.rules"])})]
	some f in deny with input as t.plan_cfg([_vpc, g], cfg)
	startswith(f.message, "unverifiable:")
}

test_no_configuration_vpc_with_default_sg_unverifiable if {
	v := t.rcu("aws_vpc", "v", {}, {"id": true})
	g := t.rcu("aws_default_security_group", "g", {"ingress": [], "egress": []}, {"vpc_id": true})
	fs := deny with input as t.plan([v, g])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}

test_rules_left_out_pass_while_the_provider_plans_them_unknown if {
	g := t.rcu("aws_default_security_group", "this", {"vpc_id": "vpc-1"}, {"ingress": true, "egress": true})
	cfg := [t.cfg("aws_default_security_group", "this", {"vpc_id": t.ref(["aws_vpc.this.id"])})]
	count(deny) == 0 with input as t.plan_cfg([_vpc, g], cfg)
}
