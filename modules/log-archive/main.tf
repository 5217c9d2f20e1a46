locals {
  bucket_arn      = "arn:${var.partition}:s3:::${var.name}"
  trail_arn       = var.cloudtrail_trail_name == null ? null : "arn:${var.partition}:cloudtrail:${var.region}:${var.account_id}:trail/${var.cloudtrail_trail_name}"
  noncurrent_days = var.noncurrent_version_expiration_days == null ? var.retention_days : var.noncurrent_version_expiration_days

  delivering_trail_arns = var.allow_cloudtrail_delivery && local.trail_arn != null ? [local.trail_arn] : []

  cloudtrail_object_arns = concat(
    ["${local.bucket_arn}/${var.cloudtrail_key_prefix}/AWSLogs/${var.account_id}/*"],
    var.organization_id == null ? [] : ["${local.bucket_arn}/${var.cloudtrail_key_prefix}/AWSLogs/${var.organization_id}/*"],
  )

  transport_statements = [
    {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      Condition = {
        Bool = { "aws:SecureTransport" = "false" }
      }
    },
    {
      Sid       = "DenyOutdatedTls"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      Condition = {
        NumericLessThan = { "s3:TlsVersion" = "1.2" }
      }
    },
  ]

  cloudtrail_statements = flatten([for arn in local.delivering_trail_arns : [
    {
      Sid       = "AllowCloudTrailAclCheck"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:GetBucketAcl"
      Resource  = local.bucket_arn
      Condition = {
        StringEquals = { "aws:SourceArn" = arn }
      }
    },
    {
      Sid       = "AllowCloudTrailWrite"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = local.cloudtrail_object_arns
      Condition = {
        StringEquals = {
          "s3:x-amz-acl"  = "bucket-owner-full-control"
          "aws:SourceArn" = arn
        }
      }
    },
  ]])

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.transport_statements, local.cloudtrail_statements)
  })
}

resource "aws_s3_bucket" "this" {
  bucket              = var.name
  object_lock_enabled = true
  force_destroy       = false

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }

  lifecycle {
    precondition {
      condition     = strcontains(var.kms_key_arn, ":kms:${var.region}:")
      error_message = "The kms_key_arn must be in the bucket's region."
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  bucket              = aws_s3_bucket.this.bucket
  object_lock_enabled = "Enabled"

  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.bucket
  policy = local.policy

  lifecycle {
    precondition {
      condition     = !var.allow_cloudtrail_delivery || var.cloudtrail_trail_name != null
      error_message = "The cloudtrail_trail_name must be set when allow_cloudtrail_delivery is true."
    }
  }

  depends_on = [aws_s3_bucket_public_access_block.this, aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    id     = "archive"
    status = "Enabled"

    filter {}

    transition {
      days          = var.glacier_transition_days
      storage_class = "GLACIER"
    }

    transition {
      days          = var.deep_archive_transition_days
      storage_class = "DEEP_ARCHIVE"
    }

    noncurrent_version_transition {
      noncurrent_days = var.glacier_transition_days
      storage_class   = "GLACIER"
    }

    noncurrent_version_expiration {
      noncurrent_days = local.noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  lifecycle {
    precondition {
      condition     = var.deep_archive_transition_days >= var.glacier_transition_days + 90
      error_message = "The deep_archive_transition_days must be at least 90 days after glacier_transition_days."
    }

    precondition {
      condition     = local.noncurrent_days >= var.retention_days
      error_message = "The noncurrent_version_expiration_days must not be earlier than retention_days."
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
