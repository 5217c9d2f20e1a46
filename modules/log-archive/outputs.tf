output "bucket_name" {
  description = "Name of the log archive bucket; available once its policy, encryption and object lock are in place"
  value       = module.bucket.name
}

output "bucket_id" {
  description = "Id of the log archive bucket"
  value       = module.bucket.id
}

output "bucket_arn" {
  description = "ARN of the log archive bucket, known at plan time"
  value       = module.bucket.arn
}

output "policy_json" {
  description = "Bucket policy document as JSON"
  value       = module.bucket.policy_json
}

output "replica_bucket_arn" {
  description = "ARN of the replica of the archive in replica_region, known at plan time"
  value       = module.replica.arn
}

output "replication_role_arn" {
  description = "ARN of the role S3 replication assumes"
  value       = aws_iam_role.replication.arn
}
