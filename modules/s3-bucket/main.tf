locals {
  arn = "arn:${var.partition}:s3:::${var.name}"

  # null leaves the region argument unset: the provider configuration's region applies.
  region = var.set_region ? var.region : null

  # Every bucket denies requests without TLS or with TLS older than 1.2; callers add their
  # statements after these two.
  transport_statements = [
    {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.arn, "${local.arn}/*"]
      Condition = {
        Bool = { "aws:SecureTransport" = "false" }
      }
    },
    {
      Sid       = "DenyOutdatedTls"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.arn, "${local.arn}/*"]
      Condition = {
        NumericLessThan = { "s3:TlsVersion" = "1.2" }
      }
    },
  ]

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.transport_statements, jsondecode(var.policy_statements_json))
  })
}

resource "aws_s3_bucket" "this" {
  region              = local.region
  bucket              = var.name
  object_lock_enabled = var.object_lock == null ? null : true
  force_destroy       = false

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = var.log_destination ? var.kms_key_arn == null && var.access_log_bucket == null : var.kms_key_arn != null && var.access_log_bucket != null
      error_message = "A server access log destination (log_destination) takes neither kms_key_arn nor access_log_bucket; every other bucket needs both."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-KMS with S3 bucket keys; a server access log destination gets SSE-S3, the only default
# encryption log delivery supports (a destination with SSE-KMS receives nothing).
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.log_destination ? "AES256" : "aws:kms"
      kms_master_key_id = var.log_destination ? null : var.kms_key_arn
    }
    bucket_key_enabled = var.log_destination ? null : true
  }

  lifecycle {
    precondition {
      condition     = var.log_destination || startswith(coalesce(var.kms_key_arn, "-"), "arn:${var.partition}:kms:${var.region}:${var.account_id}:")
      error_message = "The kms_key_arn must belong to the bucket's partition, region and account."
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count = var.object_lock == null ? 0 : 1

  region              = local.region
  bucket              = aws_s3_bucket.this.bucket
  object_lock_enabled = "Enabled"

  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket
  policy = local.policy

  depends_on = [aws_s3_bucket_public_access_block.this, aws_s3_bucket_ownership_controls.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  region = local.region
  bucket = aws_s3_bucket.this.bucket

  rule {
    id     = var.lifecycle_rule.id
    status = "Enabled"

    filter {}

    dynamic "expiration" {
      for_each = var.lifecycle_rule.expiration_days == null ? [] : [var.lifecycle_rule.expiration_days]
      content {
        days = expiration.value
      }
    }

    dynamic "transition" {
      for_each = var.lifecycle_rule.transitions
      content {
        days          = transition.value.days
        storage_class = transition.value.storage_class
      }
    }

    dynamic "noncurrent_version_transition" {
      for_each = var.lifecycle_rule.noncurrent_transitions
      content {
        noncurrent_days = noncurrent_version_transition.value.days
        storage_class   = noncurrent_version_transition.value.storage_class
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_rule.noncurrent_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.lifecycle_rule.abort_incomplete_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# Server access logging (every bucket but a log destination): every request to the bucket (reads of objects included, which
# CloudTrail's management events do not record) goes to the dedicated access-log bucket.
resource "aws_s3_bucket_logging" "this" {
  count = var.log_destination ? 0 : 1

  region        = local.region
  bucket        = aws_s3_bucket.this.bucket
  target_bucket = var.access_log_bucket
  target_prefix = "${var.access_log_prefix}/${var.name}/"

  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }
}
