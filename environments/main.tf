module "kms" {
  source   = "../modules/kms-key"
  for_each = local.kms_keys

  alias                   = "${local.name_prefix}-${each.key}"
  description             = each.value.description
  deletion_window_in_days = var.kms_deletion_window_in_days
  service_principals      = each.value.service_principals
  admin_role_arns         = [module.identity.role_arns["deployer"], module.identity.role_arns["break-glass"]]
  account_id              = var.account_id
  region                  = var.region
  partition               = var.partition
  tags                    = local.tags
}

module "identity" {
  source = "../modules/identity"
  providers = {
    aws = aws.us_east_1
  }

  name_prefix        = local.name_prefix
  account_id         = var.account_id
  partition          = var.partition
  trusted_principals = local.trusted_principals
  github_repository  = var.github_repository
  github_environment = var.environment

  managed_policy_arns = {
    author      = ["arn:${var.partition}:iam::aws:policy/ReadOnlyAccess"]
    reviewer    = ["arn:${var.partition}:iam::aws:policy/ReadOnlyAccess"]
    approver    = ["arn:${var.partition}:iam::aws:policy/ReadOnlyAccess"]
    deployer    = ["arn:${var.partition}:iam::aws:policy/AdministratorAccess"]
    auditor     = ["arn:${var.partition}:iam::aws:policy/SecurityAudit"]
    break-glass = ["arn:${var.partition}:iam::aws:policy/AdministratorAccess"]
  }

  tags = local.tags
}

module "log_archive" {
  source = "../modules/log-archive"

  name                      = local.log_archive_bucket
  kms_key_arn               = module.kms["logs"].alias_arn
  retention_days            = var.log_archive_retention_days
  allow_cloudtrail_delivery = true
  cloudtrail_trail_name     = local.trail_name
  cloudtrail_key_prefix     = local.cloudtrail_prefix
  access_log_bucket         = module.access_logs.bucket_name
  access_log_prefix         = module.access_logs.key_prefix
  replica_region            = local.replica_region
  replica_access_log_bucket = module.access_logs_replica.bucket_name
  permissions_boundary_arn  = module.identity.permissions_boundary_arn
  account_id                = var.account_id
  region                    = var.region
  partition                 = var.partition
  tags                      = local.tags

  replica_kms_deletion_window_in_days = var.kms_deletion_window_in_days
}

# S3 server access logs of the log archive and the state bucket, and of the archive's replica
# in its region.
module "access_logs" {
  source = "../modules/access-logs"

  name = local.access_log_bucket
  source_bucket_arns = [
    "arn:${var.partition}:s3:::${local.log_archive_bucket}",
    "arn:${var.partition}:s3:::${local.state_bucket}",
  ]
  account_id = var.account_id
  region     = var.region
  partition  = var.partition
  tags       = local.tags
}

module "access_logs_replica" {
  source = "../modules/access-logs"

  name               = local.replica_access_log
  source_bucket_arns = ["arn:${var.partition}:s3:::${local.log_archive_bucket}-replica"]
  account_id         = var.account_id
  region             = local.replica_region
  partition          = var.partition
  tags               = local.tags
}

module "audit_trail" {
  source = "../modules/audit-trail"

  name                     = local.trail_name
  s3_bucket_name           = module.log_archive.bucket_name
  s3_key_prefix            = local.cloudtrail_prefix
  kms_key_arn              = module.kms["logs"].key_arn
  log_retention_days       = var.log_retention_days
  permissions_boundary_arn = module.identity.permissions_boundary_arn
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
  tags                     = local.tags
}

module "state_backend" {
  source = "../modules/state-backend"

  name              = local.state_bucket
  kms_key_arn       = module.kms["state"].alias_arn
  access_log_bucket = module.access_logs.bucket_name
  access_log_prefix = module.access_logs.key_prefix
  account_id        = var.account_id
  region            = var.region
  partition         = var.partition
  tags              = local.tags
}

module "network" {
  source = "../modules/network"

  name                     = local.name_prefix
  cidr                     = var.vpc_cidr
  azs                      = var.azs
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
  kms_key_arn              = module.kms["logs"].key_arn
  flow_log_retention_days  = var.log_retention_days
  permissions_boundary_arn = module.identity.permissions_boundary_arn
  tags                     = local.tags
}

module "secrets" {
  source = "../modules/secrets"

  secrets = {
    for pair in flatten([for name, s in var.services : [for secret in s.secrets : { service = name, secret = secret }]]) :
    "${local.name_prefix}/${pair.service}/${pair.secret}" => {
      description = "Secret ${pair.secret} of service ${pair.service} in ${var.environment}"
      # The task role of the service (modules/trading-service names it <service>-task).
      consumer_roles = ["${pair.service}-task"]
      # The service's own owner and cost centre, as on its other resources.
      tags = { for k, v in { Owner = var.services[pair.service].owner, CostCentre = var.services[pair.service].cost_centre } : k => v if v != null }
    }
  }

  kms_key_arn = module.kms["secrets"].alias_arn
  account_id  = var.account_id
  region      = var.region
  partition   = var.partition
  tags        = local.tags
}

module "service" {
  source   = "../modules/trading-service"
  for_each = var.services

  name     = each.key
  tier     = each.value.tier
  port     = each.value.port
  replicas = each.value.replicas
  vpc_id   = module.network.vpc_id

  ingress_rules = concat(
    each.value.public ? [{
      port                     = each.value.port
      description              = "HTTPS from the internet through the public load balancer"
      cidr_blocks              = ["0.0.0.0/0"]
      source_security_group_id = null
    }] : [],
    [for tier in each.value.from_tiers : {
      port                     = each.value.port
      description              = "From the ${tier} tier"
      cidr_blocks              = module.network.subnet_cidrs[tier]
      source_security_group_id = null
    }],
  )
  egress_cidr_blocks = [var.vpc_cidr]
  egress_ports       = each.value.egress_ports

  # Secrets Manager appends a random six-character suffix to a secret ARN; the wildcard keeps
  # the ARN known at plan time while matching only that secret.
  secret_arns = [
    for secret in each.value.secrets :
    "arn:${var.partition}:secretsmanager:${var.region}:${var.account_id}:secret:${local.name_prefix}/${each.key}/${secret}-??????"
  ]

  log_retention_days       = var.log_retention_days
  kms_key_arn              = module.kms["services"].key_arn
  secrets_kms_key_arn      = module.kms["secrets"].alias_arn
  permissions_boundary_arn = module.identity.permissions_boundary_arn
  account_id               = var.account_id
  region                   = var.region
  partition                = var.partition
  # A service's own owner and cost centre (governance/teams.toml) replace the environment's.
  tags = merge(local.tags, { for k, v in { Owner = each.value.owner, CostCentre = each.value.cost_centre } : k => v if v != null })
}
