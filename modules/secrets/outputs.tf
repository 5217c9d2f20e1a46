output "secret_arns" {
  description = "Map of secret name to secret ARN"
  value       = { for name, s in aws_secretsmanager_secret.this : name => s.arn }
}

output "secret_ids" {
  description = "Map of secret name to secret id"
  value       = { for name, s in aws_secretsmanager_secret.this : name => s.id }
}

output "rotated_secret_names" {
  description = "Names of the secrets with automatic rotation configured"
  value       = sort(keys(local.rotated))
}
