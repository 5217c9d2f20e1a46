locals {
  bucket_arn = "arn:${var.partition}:s3:::${var.name}"

  # After the TLS statements the s3-bucket module always writes.
  policy_statements = [
    {
      # Access logs are evidence: no principal deletes or overwrites them; they leave
      # only through the lifecycle expiration below.
      Sid       = "DenyLogDeletion"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      Resource  = "${local.bucket_arn}/*"
    },
    {
      Sid       = "AllowServerAccessLogDelivery"
      Effect    = "Allow"
      Principal = { Service = "logging.s3.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "${local.bucket_arn}/${var.key_prefix}/*"
      Condition = {
        ArnLike      = { "aws:SourceArn" = var.source_bucket_arns }
        StringEquals = { "aws:SourceAccount" = var.account_id }
      }
    },
  ]
}

# The bucket and its hardening come from the shared s3-bucket module. As a log destination
# it gets SSE-S3 (S3 delivers server access logs only to buckets whose default encryption is
# SSE-S3: a destination with SSE-KMS receives nothing) and no access logging of its own.
module "bucket" {
  source = "../s3-bucket"

  name                   = var.name
  log_destination        = true
  policy_statements_json = jsonencode(local.policy_statements)

  lifecycle_rule = {
    id                         = "expire-access-logs"
    expiration_days            = var.retention_days
    noncurrent_expiration_days = 1
  }

  account_id = var.account_id
  region     = var.region
  partition  = var.partition
  tags       = merge(var.tags, { Purpose = "access-logs" })
}

# Version 2.0.0 moved the resources into module.bucket: existing state follows them, nothing
# is destroyed or recreated.
moved {
  from = aws_s3_bucket.this
  to   = module.bucket.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_policy.this
  to   = module.bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.bucket.aws_s3_bucket_lifecycle_configuration.this
}
