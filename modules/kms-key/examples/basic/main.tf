provider "aws" {
  region = "eu-west-2"
}

module "logs_key" {
  source = "../.."

  alias                   = "prod-logs"
  description             = "Encrypts the prod CloudTrail log files, audit log groups and log archive bucket"
  rotation_period_in_days = 365
  deletion_window_in_days = 30

  service_principals = [
    "logs.eu-west-2.amazonaws.com",
    "cloudtrail.amazonaws.com",
  ]
  admin_role_arns = ["arn:aws:iam::111111111111:role/security-kms-admin"]
  user_role_arns  = ["arn:aws:iam::111111111111:role/security-log-reader"]

  account_id = "111111111111"
  region     = "eu-west-2"
  partition  = "aws"

  tags = {
    Owner              = "security-engineering"
    Environment        = "prod"
    DataClassification = "confidential"
    CostCentre         = "CC-1042"
    ManagedBy          = "terraform"
  }
}

output "alias_arn" {
  description = "ARN of the key alias"
  value       = module.logs_key.alias_arn
}
