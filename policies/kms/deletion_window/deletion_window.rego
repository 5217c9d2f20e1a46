# METADATA
# title: KMS key deletion window is 30 days in prod
# description: >-
#   In production environments (prod_environments) every KMS key sets
#   deletion_window_in_days to kms_deletion_window_prod (30) explicitly.
# custom:
#   id: LZ-KMS-002
#   severity: medium
#   remediation: >-
#     Set deletion_window_in_days = 30 for prod (kms_deletion_window_in_days in
#     environments/prod/terraform.tfvars)
#   controls:
#     - DORA-Art12
package lz.rules.kms.deletion_window

import data.lz.lib

deny contains f if {
	lib.environment in lib.settings.prod_environments
	some k in lib.of_type("aws_kms_key")
	not lib.unknown(k, ["deletion_window_in_days"])
	lib.val(k, ["deletion_window_in_days"]) != lib.settings.kms_deletion_window_prod
	f := lib.finding(k.address, sprintf("deletion_window_in_days is %v, not %v", [lib.val(k, ["deletion_window_in_days"]), lib.settings.kms_deletion_window_prod]))
}

deny contains f if {
	lib.environment in lib.settings.prod_environments
	some k in lib.of_type("aws_kms_key")
	lib.unknown(k, ["deletion_window_in_days"])
	f := lib.unverifiable(k.address, "deletion_window_in_days")
}
