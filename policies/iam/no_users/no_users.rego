# METADATA
# title: No IAM users or access keys
# description: >-
#   Humans and pipelines use federated roles: no aws_iam_user, aws_iam_access_key or
#   aws_iam_user_login_profile is created.
# custom:
#   id: LZ-IAM-006
#   severity: high
#   remediation: >-
#     Remove the aws_iam_user and aws_iam_access_key resources; people use SSO roles and
#     workloads use roles assumed through OIDC or STS
#   controls:
#     - CIS-AWS-1.4
#     - CIS-AWS-1.12
package lz.rules.iam.no_users

import data.lz.lib

_forbidden := {"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile"}

deny contains f if {
	some r in lib.resources
	r.type in _forbidden
	f := lib.finding(r.address, sprintf("%s is not allowed; use federated roles", [r.type]))
}
