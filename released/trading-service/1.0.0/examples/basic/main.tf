provider "aws" {
  region              = "eu-west-2"
  allowed_account_ids = ["111111111111"]
}

module "order_gateway" {
  source = "../.."

  name     = "order-gateway"
  tier     = "ingress"
  port     = 443
  replicas = 3
  vpc_id   = "vpc-0a1b2c3d4e5f60718"

  ingress_rules = [
    {
      port        = 443
      description = "HTTPS from the public load balancer"
      cidr_blocks = ["0.0.0.0/0"]
    },
  ]
  egress_cidr_blocks = ["10.10.64.0/18"]
  egress_ports       = [8443]

  log_retention_days       = 365
  secret_arns              = ["arn:aws:secretsmanager:eu-west-2:111111111111:secret:lz-dev/order-gateway/tls-??????"]
  kms_key_arn              = "arn:aws:kms:eu-west-2:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
  permissions_boundary_arn = "arn:aws:iam::111111111111:policy/lz-dev-boundary"
  account_id               = "111111111111"
  region                   = "eu-west-2"

  tags = {
    Owner              = "trading-platform"
    Environment        = "dev"
    DataClassification = "confidential"
    CostCentre         = "CC-2001"
    ManagedBy          = "terraform"
  }
}

output "service" {
  description = "Service summary"
  value       = module.order_gateway.service
}
