output "bucket_name" {
  description = "Name of the access-log bucket; available once its policy, encryption and ownership controls are in place"
  value       = module.bucket.name
}

output "bucket_arn" {
  description = "ARN of the access-log bucket, known at plan time"
  value       = module.bucket.arn
}

output "key_prefix" {
  description = "Key prefix under which source buckets deliver their logs"
  value       = var.key_prefix
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = module.bucket.policy_json
}
