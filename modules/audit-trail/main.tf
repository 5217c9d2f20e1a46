locals {
  trail_arn      = "arn:${var.partition}:cloudtrail:${var.region}:${var.account_id}:trail/${var.name}"
  log_group_name = var.log_group_name == null ? "/aws/cloudtrail/${var.name}" : var.log_group_name
  log_group_arn  = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${local.log_group_name}"
  role_name      = "${var.name}-cloudtrail-logs"
  role_arn       = "arn:${var.partition}:iam::${var.account_id}:role/${local.role_name}"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowCloudTrailOfThisTrail"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = {
          "aws:SourceArn"     = local.trail_arn
          "aws:SourceAccount" = var.account_id
        }
      }
    }]
  })

  role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteTrailLogStreams"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${local.log_group_arn}:log-stream:*"
    }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  log_group_class   = "STANDARD"
  skip_destroy      = true

  tags = merge(var.tags, { Name = local.log_group_name })

  lifecycle {
    precondition {
      condition     = strcontains(var.kms_key_arn, ":kms:${var.region}:")
      error_message = "The kms_key_arn must be in the trail's home region."
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Lets CloudTrail trail ${var.name} write to ${local.log_group_name}"
  assume_role_policy   = local.assume_role_policy
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600

  tags = merge(var.tags, { Name = local.role_name })
}

resource "aws_iam_role_policy" "this" {
  name   = "cloudtrail-to-cloudwatch-logs"
  role   = aws_iam_role.this.name
  policy = local.role_policy
}

resource "aws_cloudtrail" "this" {
  name                          = var.name
  s3_bucket_name                = var.s3_bucket_name
  s3_key_prefix                 = var.s3_key_prefix
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
  is_organization_trail         = var.is_organization_trail
  cloud_watch_logs_group_arn    = "${local.log_group_arn}:*"
  cloud_watch_logs_role_arn     = local.role_arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  tags = merge(var.tags, { Name = var.name })

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
