provider "aws" {
  region = "eu-west-2"
}

module "state_backend" {
  source = "../.."

  name                               = "lz-prod-tfstate-111111111111"
  kms_key_arn                        = "arn:aws:kms:eu-west-2:111111111111:alias/prod-tfstate"
  noncurrent_version_expiration_days = 365
  access_log_bucket                  = "lz-prod-access-logs-111111111111"

  account_id = "111111111111"
  region     = "eu-west-2"
  partition  = "aws"

  tags = {
    Owner              = "platform-engineering"
    Environment        = "prod"
    DataClassification = "confidential"
    CostCentre         = "CC-1042"
    ManagedBy          = "terraform"
  }
}

output "backend_config" {
  description = "Settings for the S3 backend of the environments"
  value       = module.state_backend.backend_config
}
