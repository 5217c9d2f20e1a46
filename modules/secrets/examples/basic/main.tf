provider "aws" {
  region = "eu-west-2"
}

module "secrets" {
  source = "../.."

  secrets = {
    "trading/prod/fix-gateway/session-credentials" = {
      description         = "FIX session logon credentials for the order gateway"
      rotation_days       = 30
      rotation_lambda_arn = "arn:aws:lambda:eu-west-2:111111111111:function:fix-credentials-rotator"
      data_classification = "restricted"
    }
    "trading/prod/market-data/vendor-api-key" = {
      description             = "Market data vendor API key, rotated by the vendor portal"
      recovery_window_in_days = 14
    }
  }

  kms_key_arn = "arn:aws:kms:eu-west-2:111111111111:alias/prod-secrets"

  account_id = "111111111111"
  region     = "eu-west-2"
  partition  = "aws"

  tags = {
    Owner              = "trading-platform"
    Environment        = "prod"
    DataClassification = "confidential"
    CostCentre         = "CC-1042"
    ManagedBy          = "terraform"
  }
}

output "secret_arns" {
  description = "Map of secret name to ARN"
  value       = module.secrets.secret_arns
}
