provider "aws" {
  region              = "eu-west-2"
  allowed_account_ids = ["111111111111"]
}

module "identity" {
  source = "../.."

  name_prefix        = "lz-dev"
  account_id         = "111111111111"
  trusted_principals = ["111111111111"]
  github_repository  = "example-org/landing-zone"
  github_environment = "dev"

  managed_policy_arns = {
    auditor  = ["arn:aws:iam::aws:policy/SecurityAudit"]
    reviewer = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  }

  tags = {
    Owner              = "platform-engineering"
    Environment        = "dev"
    DataClassification = "internal"
    CostCentre         = "CC-1001"
    ManagedBy          = "terraform"
  }
}

output "role_arns" {
  description = "Role ARNs by role key"
  value       = module.identity.role_arns
}
