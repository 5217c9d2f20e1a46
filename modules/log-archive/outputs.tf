output "bucket_name" {
  description = "Name of the log archive bucket; available once its policy, encryption and object lock are in place"
  value       = var.name

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_object_lock_configuration.this,
    aws_s3_bucket_ownership_controls.this,
  ]
}

output "bucket_id" {
  description = "Id of the log archive bucket"
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the log archive bucket, known at plan time"
  value       = local.bucket_arn

  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_object_lock_configuration.this,
    aws_s3_bucket_ownership_controls.this,
  ]
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = local.policy
}

output "replica_bucket_arn" {
  description = "ARN of the replica of the archive in replica_region, known at plan time"
  value       = local.replica_arn

  depends_on = [
    aws_s3_bucket_policy.replica,
    aws_s3_bucket_server_side_encryption_configuration.replica,
    aws_s3_bucket_object_lock_configuration.replica,
  ]
}

output "replication_role_arn" {
  description = "ARN of the role S3 replication assumes"
  value       = aws_iam_role.replication.arn
}
