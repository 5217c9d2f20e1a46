locals {
  name_prefix = "lz-${var.environment}"

  tags = {
    Owner              = var.owner
    Environment        = var.environment
    DataClassification = var.data_classification
    CostCentre         = var.cost_centre
    ManagedBy          = "terraform"
  }

  trusted_principals = length(var.trusted_principals) > 0 ? var.trusted_principals : [var.account_id]

  # One customer managed key per purpose; the logs key also serves CloudTrail and the log archive.
  kms_keys = {
    logs = {
      description        = "Encrypts CloudWatch Logs groups, CloudTrail log files and the log archive of ${local.name_prefix}"
      service_principals = ["logs.${var.region}.amazonaws.com", "cloudtrail.amazonaws.com"]
    }
    state = {
      description        = "Encrypts the Terraform state of ${local.name_prefix}"
      service_principals = []
    }
    secrets = {
      description        = "Encrypts the Secrets Manager secrets of ${local.name_prefix}"
      service_principals = []
    }
    services = {
      description        = "Encrypts the log groups and data of the trading services of ${local.name_prefix}"
      service_principals = ["logs.${var.region}.amazonaws.com"]
    }
  }

  log_archive_bucket = "${local.name_prefix}-log-archive-${var.account_id}"
  access_log_bucket  = "${local.name_prefix}-access-logs-${var.account_id}"

  # The log archive's replica lives in the other region of the residency set.
  replica_regions    = { "eu-west-2" = "eu-west-1", "eu-west-1" = "eu-west-2" }
  replica_region     = local.replica_regions[var.region]
  replica_access_log = "${local.name_prefix}-access-logs-${local.replica_region}-${var.account_id}"
  state_bucket       = "${local.name_prefix}-tfstate-${var.account_id}"
  trail_name         = "${local.name_prefix}-audit"
  cloudtrail_prefix  = "cloudtrail"
}
