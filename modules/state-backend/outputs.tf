output "bucket_name" {
  description = "Name of the state bucket; available once its policy, encryption and versioning are in place"
  value       = module.bucket.name
}

output "bucket_arn" {
  description = "ARN of the state bucket, known at plan time"
  value       = module.bucket.arn
}

output "backend_config" {
  description = "Settings for an S3 backend block or -backend-config: bucket, region, encrypt, use_lockfile and kms_key_id"
  value = {
    bucket       = module.bucket.name
    region       = var.region
    encrypt      = true
    use_lockfile = true
    kms_key_id   = var.kms_key_arn
  }
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = module.bucket.policy_json
}
