output "bucket_name" {
  description = "Name of the state bucket; available once its policy, encryption and versioning are in place"
  value       = var.name

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_public_access_block.this,
  ]
}

output "bucket_arn" {
  description = "ARN of the state bucket, known at plan time"
  value       = local.bucket_arn

  depends_on = [aws_s3_bucket.this]
}

output "backend_config" {
  description = "Settings for an S3 backend block or -backend-config: bucket, region, encrypt, use_lockfile and kms_key_id"
  value = {
    bucket       = var.name
    region       = var.region
    encrypt      = true
    use_lockfile = true
    kms_key_id   = var.kms_key_arn
  }

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_public_access_block.this,
  ]
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = local.policy
}
