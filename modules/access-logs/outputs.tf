output "bucket_name" {
  description = "Name of the access-log bucket; available once its policy, encryption and ownership controls are in place"
  value       = var.name

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_ownership_controls.this,
  ]
}

output "bucket_arn" {
  description = "ARN of the access-log bucket, known at plan time"
  value       = local.bucket_arn

  depends_on = [aws_s3_bucket.this]
}

output "key_prefix" {
  description = "Key prefix under which source buckets deliver their logs"
  value       = var.key_prefix
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = local.policy
}
