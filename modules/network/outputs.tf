output "vpc_id" {
  description = "Id of the VPC"
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC"
  value       = var.cidr
}

output "subnet_ids" {
  description = "Subnet ids by tier (ingress, trading, data), in the order of var.azs"
  value = {
    for tier in keys(local.tier_offsets) : tier => [for az in var.azs : aws_subnet.this["${tier}-${az}"].id]
  }
}

output "subnet_cidrs" {
  description = "Subnet CIDRs by tier (ingress, trading, data), in the order of var.azs; known at plan time"
  value = {
    for tier in keys(local.tier_offsets) : tier => [for az in var.azs : local.subnets["${tier}-${az}"].cidr]
  }
}

output "route_table_ids" {
  description = "Route table ids by tier (ingress, trading, data)"
  value       = { for tier, rt in aws_route_table.this : tier => rt.id }
}

output "internet_gateway_id" {
  description = "Id of the internet gateway attached to the ingress tier"
  value       = aws_internet_gateway.this.id
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch log group receiving the VPC flow logs"
  value       = aws_cloudwatch_log_group.this.name
}

output "flow_log_role_arn" {
  description = "ARN of the IAM role that delivers the flow logs"
  value       = local.flow_log_role_arn
  depends_on  = [aws_iam_role.this]
}

output "default_security_group_id" {
  description = "Id of the VPC default security group, left without rules"
  value       = aws_default_security_group.this.id
}
