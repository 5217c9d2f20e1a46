output "name" {
  description = "Name of the bucket; available once its policy, encryption, versioning, public access block, ownership controls and Object Lock are in place"
  value       = var.name

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_object_lock_configuration.this,
  ]
}

output "arn" {
  description = "ARN of the bucket, known at plan time"
  value       = local.arn

  depends_on = [aws_s3_bucket.this]
}

output "id" {
  description = "Id of the bucket"
  value       = aws_s3_bucket.this.id
}

output "policy_json" {
  description = "Bucket policy document as JSON: the two TLS statements, then policy_statements_json"
  value       = local.policy
}
