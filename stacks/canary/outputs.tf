output "release" {
  description = "Release digest deployed"
  value       = terraform_data.release.output.release
}

output "environment" {
  description = "Environment deployed"
  value       = terraform_data.release.output.environment
}
