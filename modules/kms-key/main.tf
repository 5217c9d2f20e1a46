locals {
  root_arn  = "arn:${var.partition}:iam::${var.account_id}:root"
  alias_arn = "arn:${var.partition}:kms:${var.region}:${var.account_id}:alias/${var.alias}"

  cloudtrail_principals = [for p in var.service_principals : p if p == "cloudtrail.amazonaws.com"]
  logs_principals       = [for p in var.service_principals : p if can(regex("^logs\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$", p))]
  other_principals      = [for p in var.service_principals : p if !contains(concat(local.cloudtrail_principals, local.logs_principals), p)]

  # Zero or one group each, so a statement appears only when its list is non-empty.
  admin_groups = length(var.admin_role_arns) > 0 ? [var.admin_role_arns] : []
  user_groups  = length(var.user_role_arns) > 0 ? [var.user_role_arns] : []
  other_groups = length(local.other_principals) > 0 ? [local.other_principals] : []

  root_statements = [{
    Sid       = "EnableAccountRootAdministration"
    Effect    = "Allow"
    Principal = { AWS = local.root_arn }
    Action    = "kms:*"
    Resource  = "*"
  }]

  admin_statements = [for arns in local.admin_groups : {
    Sid       = "AllowKeyAdministration"
    Effect    = "Allow"
    Principal = { AWS = arns }
    Action = [
      "kms:CancelKeyDeletion",
      "kms:Create*",
      "kms:Delete*",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:Revoke*",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]
    Resource = "*"
  }]

  user_statements = [for arns in local.user_groups : {
    Sid       = "AllowKeyUse"
    Effect    = "Allow"
    Principal = { AWS = arns }
    Action = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    Resource = "*"
  }]

  # CloudWatch Logs and CloudTrail bind each use to an encryption context naming the log group
  # or trail, which is narrower than a source-account condition.
  logs_statements = [for p in local.logs_principals : {
    Sid       = format("AllowCloudWatchLogs%s", replace(title(regex("^logs\\.([a-z0-9-]+)\\.", p)[0]), "-", ""))
    Effect    = "Allow"
    Principal = { Service = p }
    Action = [
      "kms:Decrypt*",
      "kms:Describe*",
      "kms:Encrypt*",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    Resource = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = "arn:${var.partition}:logs:${regex("^logs\\.([a-z0-9-]+)\\.", p)[0]}:${var.account_id}:log-group:*"
      }
    }
  }]

  cloudtrail_statements = flatten([for p in local.cloudtrail_principals : [
    {
      Sid       = "AllowCloudTrailEncrypt"
      Effect    = "Allow"
      Principal = { Service = p }
      Action    = "kms:GenerateDataKey*"
      Resource  = "*"
      Condition = {
        StringLike = {
          "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${var.partition}:cloudtrail:*:${var.account_id}:trail/*"
          "aws:SourceArn"                            = "arn:${var.partition}:cloudtrail:*:${var.account_id}:trail/*"
        }
      }
    },
    {
      Sid       = "AllowCloudTrailDescribeKey"
      Effect    = "Allow"
      Principal = { Service = p }
      Action    = "kms:DescribeKey"
      Resource  = "*"
      Condition = {
        StringLike = {
          "aws:SourceArn" = "arn:${var.partition}:cloudtrail:*:${var.account_id}:trail/*"
        }
      }
    },
  ]])

  service_statements = [for ps in local.other_groups : {
    Sid       = "AllowServiceUseFromThisAccount"
    Effect    = "Allow"
    Principal = { Service = ps }
    Action = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    Resource = "*"
    Condition = {
      StringEquals = {
        "aws:SourceAccount" = var.account_id
      }
    }
  }]

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      local.root_statements,
      local.admin_statements,
      local.user_statements,
      local.logs_statements,
      local.cloudtrail_statements,
      local.service_statements,
    )
  })
}

resource "aws_kms_key" "this" {
  description                        = var.description
  key_usage                          = "ENCRYPT_DECRYPT"
  customer_master_key_spec           = "SYMMETRIC_DEFAULT"
  enable_key_rotation                = true
  rotation_period_in_days            = var.rotation_period_in_days
  deletion_window_in_days            = var.deletion_window_in_days
  is_enabled                         = true
  multi_region                       = false
  bypass_policy_lockout_safety_check = false
  policy                             = local.policy

  tags = merge(var.tags, { Name = var.alias })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
