provider "aws" {
  region              = "eu-west-2"
  allowed_account_ids = ["111111111111"]
}

module "network" {
  source = "../.."

  name                     = "lz-dev"
  cidr                     = "10.10.0.0/16"
  azs                      = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
  account_id               = "111111111111"
  region                   = "eu-west-2"
  kms_key_arn              = "arn:aws:kms:eu-west-2:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
  flow_log_retention_days  = 365
  permissions_boundary_arn = "arn:aws:iam::111111111111:policy/lz-dev-boundary"

  tags = {
    Owner              = "platform-engineering"
    Environment        = "dev"
    DataClassification = "internal"
    CostCentre         = "CC-1001"
    ManagedBy          = "terraform"
  }
}

output "subnet_cidrs" {
  description = "Subnet CIDRs by tier"
  value       = module.network.subnet_cidrs
}
