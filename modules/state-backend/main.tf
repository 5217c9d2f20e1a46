# The bucket and its hardening come from the shared s3-bucket module; this module adds the
# state-specific lifecycle and the backend settings.
module "bucket" {
  source = "../s3-bucket"

  name        = var.name
  set_region  = false
  kms_key_arn = var.kms_key_arn

  lifecycle_rule = {
    id                         = "expire-noncurrent-state"
    noncurrent_expiration_days = var.noncurrent_version_expiration_days
  }

  access_log_bucket = var.access_log_bucket
  access_log_prefix = var.access_log_prefix

  account_id = var.account_id
  region     = var.region
  partition  = var.partition
  tags       = var.tags
}

# Version 3.0.0 moved the resources into module.bucket: existing state follows them, nothing
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

moved {
  from = aws_s3_bucket_logging.this
  to   = module.bucket.aws_s3_bucket_logging.this[0]
}
