provider "aws" {
  region = "eu-west-2"
}

module "audit_trail" {
  source = "../.."

  name           = "prod-audit"
  s3_bucket_name = "lz-prod-log-archive-111111111111"
  s3_key_prefix  = "cloudtrail"
  # CloudWatch Logs needs the key ARN; an alias ARN is rejected.
  kms_key_arn = "arn:aws:kms:eu-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

  is_organization_trail    = false
  log_retention_days       = 2192
  permissions_boundary_arn = "arn:aws:iam::111111111111:policy/lz-permissions-boundary"

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

output "trail_arn" {
  description = "ARN of the trail"
  value       = module.audit_trail.trail_arn
}
