# METADATA
# title: Every IAM role has a permissions boundary
# description: >-
#   Every aws_iam_role sets permissions_boundary to a known policy ARN or to an expression
#   referencing an aws_iam_policy (directly or through module variables and outputs).
# custom:
#   id: LZ-IAM-002
#   severity: high
#   remediation: >-
#     Set permissions_boundary on the role to the landing zone's boundary
#     (module.identity.permissions_boundary_arn)
#   controls:
#     - LZ-IAM-GUARDRAIL-BOUNDARY
package lz.rules.iam.permission_boundary

import data.lz.lib

deny contains f if {
	some r in lib.of_type("aws_iam_role")
	not lib.unknown(r, ["permissions_boundary"])
	not lib.present(r, ["permissions_boundary"])
	f := lib.finding(r.address, "role has no permissions boundary")
}

deny contains f if {
	some r in lib.of_type("aws_iam_role")
	lib.unverifiable_ref(r, ["permissions_boundary"], "aws_iam_policy")
	f := lib.unverifiable(r.address, "permissions_boundary")
}
