output "environment" {
  description = "Environment name, account and region"
  value = {
    name       = var.environment
    account_id = var.account_id
    region     = var.region
  }
}

output "kms_key_aliases" {
  description = "KMS alias ARNs by purpose (logs, state, secrets, services)"
  value       = { for purpose, key in module.kms : purpose => key.alias_arn }
}

output "kms_key_arns" {
  description = "KMS key ARNs by purpose (logs, state, secrets, services)"
  value       = { for purpose, key in module.kms : purpose => key.key_arn }
}

output "log_archive_bucket" {
  description = "Name of the log archive bucket"
  value       = module.log_archive.bucket_name
}

output "audit_trail_arn" {
  description = "ARN of the audit trail"
  value       = module.audit_trail.trail_arn
}

output "state_backend" {
  description = "S3 backend settings of the environment's Terraform state"
  value       = module.state_backend.backend_config
}

output "vpc_id" {
  description = "Id of the environment VPC"
  value       = module.network.vpc_id
}

output "subnet_ids" {
  description = "Subnet ids by tier"
  value       = module.network.subnet_ids
}

output "subnet_cidrs" {
  description = "Subnet CIDRs by tier"
  value       = module.network.subnet_cidrs
}

output "role_arns" {
  description = "IAM role ARNs by role key"
  value       = module.identity.role_arns
}

output "permissions_boundary_arn" {
  description = "ARN of the permissions boundary on every role"
  value       = module.identity.permissions_boundary_arn
}

output "secret_arns" {
  description = "Secret ARNs by secret name"
  value       = module.secrets.secret_arns
}

output "services" {
  description = "Summary of every trading service"
  value       = { for name, svc in module.service : name => svc.service }
}
