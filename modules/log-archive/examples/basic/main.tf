provider "aws" {
  region = "eu-west-2"
}

module "log_archive" {
  source = "../.."

  name           = "lz-prod-log-archive-111111111111"
  kms_key_arn    = "arn:aws:kms:eu-west-2:111111111111:alias/prod-logs"
  retention_days = 2190

  glacier_transition_days      = 90
  deep_archive_transition_days = 365

  allow_cloudtrail_delivery = true
  cloudtrail_trail_name     = "prod-audit"
  cloudtrail_key_prefix     = "cloudtrail"

  access_log_bucket         = "lz-prod-access-logs-111111111111"
  replica_region            = "eu-west-1"
  replica_access_log_bucket = "lz-prod-access-logs-eu-west-1-111111111111"
  permissions_boundary_arn  = "arn:aws:iam::111111111111:policy/lz-prod-boundary"

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

output "bucket_arn" {
  description = "ARN of the log archive bucket"
  value       = module.log_archive.bucket_arn
}
