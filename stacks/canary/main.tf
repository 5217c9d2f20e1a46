# The canary stack: a provider-free stand-in for the landing zone that a promotion really
# applies. It records the release digest and the environment overlay in Terraform state in the
# environment's own S3 backend, so promotion order, locking, drift and recovery are exercised
# end to end without the AWS provider.

terraform {
  required_version = ">= 1.10"

  backend "s3" {}
}

locals {
  overlay = {
    vpc_cidr                    = var.vpc_cidr
    azs                         = var.azs
    log_archive_retention_days  = var.log_archive_retention_days
    log_retention_days          = var.log_retention_days
    kms_deletion_window_in_days = var.kms_deletion_window_in_days
    services                    = var.services
    trusted_principals          = var.trusted_principals
  }
}

resource "terraform_data" "release" {
  input = {
    release     = var.release
    environment = var.environment
    account_id  = var.account_id
    region      = var.region
  }

  triggers_replace = [var.release]
}

resource "terraform_data" "overlay" {
  input = jsonencode(local.overlay)
}

# Holds the release in the environment for bake_seconds after it is applied, before the
# promotion is recorded as complete.
resource "terraform_data" "bake" {
  count = var.bake_seconds > 0 ? 1 : 0

  triggers_replace = [var.release]

  provisioner "local-exec" {
    command = "sleep ${var.bake_seconds}"
  }
}
