provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

# IAM is a global service whose control plane lives in us-east-1; the identity module uses it.
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = [var.account_id]
}
