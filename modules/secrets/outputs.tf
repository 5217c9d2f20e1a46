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

output "rotation_schedules" {
  description = "Map of secret name to its rotation schedule in days and the roles that consume it"
  value       = { for name, s in var.secrets : name => { rotation_days = s.rotation_days, consumer_roles = s.consumer_roles } }
}
