provider "aws" {
  region = "eu-west-2"
}

module "access_logs" {
  source = "../.."

  name = "lz-prod-access-logs-111111111111"
  source_bucket_arns = [
    "arn:aws:s3:::lz-prod-log-archive-111111111111",
    "arn:aws:s3:::lz-prod-tfstate-111111111111",
  ]

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

output "bucket_name" {
  description = "Name of the access-log bucket"
  value       = module.access_logs.bucket_name
}
