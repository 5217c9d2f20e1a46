# METADATA
# title: Trading and data subnets do not map public IPs
# description: >-
#   Subnets whose Tier tag is trading or data set map_public_ip_on_launch = false. Whether a
#   subnet of another tier hosts a trading workload is LZ-NET-006 (public_subnets).
# custom:
#   id: LZ-NET-004
#   severity: high
#   remediation: >-
#     Set map_public_ip_on_launch = false on trading and data subnets
#   controls:
#     - CIS-AWS-5.6
#     - DORA-Art9-4c
package lz.rules.network.private_subnets

import data.lz.lib

deny contains f if {
	some s in lib.private_subnets
	not lib.unknown(s, ["map_public_ip_on_launch"])
	lib.val(s, ["map_public_ip_on_launch"]) != lib.required("aws_subnet", ["map_public_ip_on_launch"])
	f := lib.finding(s.address, sprintf("%s subnet maps public IPs on launch", [lib.tag(s, "Tier")]))
}

deny contains f if {
	some s in lib.private_subnets
	lib.unknown(s, ["map_public_ip_on_launch"])
	f := lib.unverifiable(s.address, "map_public_ip_on_launch")
}
