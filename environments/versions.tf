terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }

  # Completed per environment with -backend-config=<env>/backend.hcl.
  backend "s3" {}
}
