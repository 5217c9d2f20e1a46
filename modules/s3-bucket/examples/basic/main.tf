provider "aws" {
  region = "eu-west-2"
}

module "bucket" {
  source = "../.."

  name              = "lz-prod-reports-111111111111"
  kms_key_arn       = "arn:aws:kms:eu-west-2:111111111111:alias/prod-reports"
  access_log_bucket = "lz-prod-access-logs-111111111111"

  object_lock = {
    mode = "COMPLIANCE"
    days = 400
  }

  lifecycle_rule = {
    id                         = "reports"
    transitions                = [{ days = 90, storage_class = "GLACIER" }]
    noncurrent_expiration_days = 400
  }

  policy_statements_json = jsonencode([
    {
      Sid       = "DenyUnencryptedUploads"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::lz-prod-reports-111111111111/*"
      Condition = {
        StringNotEquals = { "s3:x-amz-server-side-encryption" = "aws:kms" }
      }
    },
  ])

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

output "bucket_arn" {
  description = "ARN of the bucket"
  value       = module.bucket.arn
}
