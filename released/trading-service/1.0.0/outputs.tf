output "security_group_id" {
  description = "Id of the service security group"
  value       = aws_security_group.this.id
}

output "log_group_name" {
  description = "Name of the service log group; known at plan time"
  value       = aws_cloudwatch_log_group.this.name
}

output "task_role_arn" {
  description = "ARN of the ECS task role; known at plan time"
  value       = local.role_arn
  depends_on  = [aws_iam_role.task, aws_iam_role_policy.task]
}

output "service" {
  description = "Summary of the service: name, tier, port, replicas, security group, log group, task role and secret references"
  value = {
    name              = var.name
    tier              = var.tier
    port              = var.port
    replicas          = var.replicas
    security_group_id = aws_security_group.this.id
    log_group_name    = local.log_group_name
    task_role_arn     = local.role_arn
    secret_arns       = var.secret_arns
  }
}
