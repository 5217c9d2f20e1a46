output "key_arn" {
  description = "ARN of the KMS key"
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the KMS key"
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Name of the alias, alias/<alias>"
  value       = "alias/${var.alias}"

  depends_on = [aws_kms_alias.this]
}

output "alias_arn" {
  description = "ARN of the alias, known at plan time; usable wherever AWS accepts an alias ARN (S3 SSE, CloudTrail, Secrets Manager)"
  value       = local.alias_arn

  depends_on = [aws_kms_alias.this]
}

output "policy_json" {
  description = "Key policy document as JSON"
  value       = local.policy
}
