# METADATA
# title: Every VPC has flow logs capturing all traffic
# description: >-
#   Every aws_vpc has an aws_flow_log attached through vpc_id, and every flow log captures
#   traffic_type ALL.
# custom:
#   id: LZ-NET-001
#   severity: high
#   controls:
#     - CIS-AWS-3.9
package lz.rules.network.flow_logs

import data.lz.lib

_id := "LZ-NET-001"

_severity := "high"

deny contains f if {
	some v in lib.of_type("aws_vpc")
	not _has_flow_log(v)
	f := lib.finding(_id, _severity, v.address, "VPC has no flow log")
}

deny contains f if {
	some l in lib.of_type("aws_flow_log")
	not lib.unknown(l, ["traffic_type"])
	lib.val(l, ["traffic_type"]) != "ALL"
	f := lib.finding(_id, _severity, l.address, sprintf("flow log traffic_type is %v, not ALL", [lib.val(l, ["traffic_type"])]))
}

deny contains f if {
	some l in lib.of_type("aws_flow_log")
	lib.unknown(l, ["traffic_type"])
	f := lib.unverifiable(_id, l.address, "traffic_type")
}

_has_flow_log(v) if {
	some l in lib.of_type("aws_flow_log")
	lib.linked(l, "vpc_id", v)
}
