package lz.rules.network.flow_logs

import data.lz.testing as t

_vpc := t.rcu("aws_vpc", "this", {"cidr_block": "10.0.0.0/16"}, {"id": true})

_log(traffic) := t.rcu("aws_flow_log", "this", {"traffic_type": traffic}, {"vpc_id": true})

_cfg := [t.cfg("aws_flow_log", "this", {"vpc_id": t.ref(["aws_vpc.this.id", "aws_vpc.this"])})]

test_all_traffic_passes if {
	count(deny) == 0 with input as t.plan_cfg([_vpc, _log("ALL")], _cfg)
}

test_reject_only_denied if {
	fs := deny with input as t.plan_cfg([_vpc, _log("REJECT")], _cfg)
	{f.address | some f in fs} == {"aws_flow_log.this"}
}

test_vpc_without_flow_log_denied if {
	fs := deny with input as t.plan([_vpc])
	{f.address | some f in fs} == {"aws_vpc.this"}
}

test_linked_by_known_id_passes if {
	vpc := t.rc("aws_vpc", "old", {"id": "vpc-0123"})
	l := t.rc("aws_flow_log", "old", {"vpc_id": "vpc-0123", "traffic_type": "ALL"})
	count(deny) == 0 with input as t.plan([vpc, l])
}

test_unknown_traffic_unverifiable if {
	l := t.rcu("aws_flow_log", "this", {}, {"vpc_id": true, "traffic_type": true})
	some f in deny with input as t.plan_cfg([_vpc, l], _cfg)
	startswith(f.message, "unverifiable:")
}

test_no_configuration_vpc_with_flow_log_unverifiable if {
	v := t.rcu("aws_vpc", "v", {}, {"id": true})
	l := t.rcu("aws_flow_log", "l", {"traffic_type": "ALL"}, {"vpc_id": true})
	fs := deny with input as t.plan([v, l])
	count(fs) == 1
	some f in fs
	startswith(f.message, "unverifiable:")
}
