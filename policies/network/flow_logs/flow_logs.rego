# METADATA
# title: Every VPC has flow logs capturing all traffic
# description: >-
#   Every aws_vpc has an aws_flow_log attached through vpc_id, and every flow log captures
#   traffic_type ALL.
# custom:
#   id: LZ-NET-001
#   severity: high
#   remediation: >-
#     Add an aws_flow_log with traffic_type ALL for the VPC (the network module declares one)
#   controls:
#     - CIS-AWS-3.9
package lz.rules.network.flow_logs

import data.lz.lib

deny contains f if {
	some v in lib.of_type("aws_vpc")
	not _has_flow_log(v)
	not lib.maybe_linked("aws_flow_log", "vpc_id", v)
	f := lib.finding(v.address, "VPC has no flow log")
}

deny contains f if {
	some v in lib.of_type("aws_vpc")
	not _has_flow_log(v)
	lib.maybe_linked("aws_flow_log", "vpc_id", v)
	f := lib.unlinked(v.address, "aws_flow_log")
}

deny contains f if {
	some l in lib.of_type("aws_flow_log")
	not lib.unknown(l, ["traffic_type"])
	lib.val(l, ["traffic_type"]) != lib.required("aws_flow_log", ["traffic_type"])
	f := lib.finding(l.address, sprintf("flow log traffic_type is %v, not ALL", [lib.val(l, ["traffic_type"])]))
}

deny contains f if {
	some l in lib.of_type("aws_flow_log")
	lib.unknown(l, ["traffic_type"])
	f := lib.unverifiable(l.address, "traffic_type")
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains v.address if {
	some l in lib.of_type("aws_flow_log")
	some v in lib.linked_to(l, "vpc_id", "aws_vpc")
}

_has_flow_log(v) if v.address in _linked_targets
