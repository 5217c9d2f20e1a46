output "role_arns" {
  description = "Role ARNs by role key (author, reviewer, approver, deployer, auditor, break-glass); known at plan time"
  value       = { for key, role in local.roles : key => "arn:${var.partition}:iam::${var.account_id}:role/${var.name_prefix}-${key}" }
  depends_on  = [aws_iam_role.this]
}

output "role_names" {
  description = "Role names by role key"
  value       = { for key, role in local.roles : key => "${var.name_prefix}-${key}" }
}

output "deployer_role_arn" {
  description = "ARN of the deployer role assumed by GitHub Actions"
  value       = "arn:${var.partition}:iam::${var.account_id}:role/${var.name_prefix}-deployer"
  depends_on  = [aws_iam_role.this]
}

output "permissions_boundary_arn" {
  description = "ARN of the permissions boundary set on every role; known at plan time"
  value       = local.permissions_boundary_arn
  depends_on  = [aws_iam_policy.boundary]
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider"
  value       = local.github_oidc_provider_arn
  depends_on  = [aws_iam_openid_connect_provider.github]
}
