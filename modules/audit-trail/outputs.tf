output "trail_arn" {
  description = "ARN of the trail, known at plan time"
  value       = local.trail_arn

  depends_on = [aws_cloudtrail.this]
}

output "trail_name" {
  description = "Name of the trail"
  value       = aws_cloudtrail.this.name
}

output "log_group_name" {
  description = "Name of the CloudWatch Logs group receiving the trail"
  value       = local.log_group_name

  depends_on = [aws_cloudwatch_log_group.this]
}

output "log_group_arn" {
  description = "ARN of the CloudWatch Logs group receiving the trail, known at plan time"
  value       = local.log_group_arn

  depends_on = [aws_cloudwatch_log_group.this]
}

output "role_arn" {
  description = "ARN of the IAM role CloudTrail assumes to write to the log group"
  value       = local.role_arn

  depends_on = [aws_iam_role.this]
}

output "role_name" {
  description = "Name of the IAM role CloudTrail assumes to write to the log group"
  value       = aws_iam_role.this.name
}
