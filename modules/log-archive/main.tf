locals {
  # Object Lock mode of the archive and its replica: COMPLIANCE, which no one can shorten.
  lock_mode = "COMPLIANCE"

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
      mode = local.lock_mode
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

# Server access logging: every request to the bucket (reads of objects included, which
# CloudTrail's management events do not record) goes to the dedicated access-log bucket.
resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.bucket
  target_bucket = var.access_log_bucket
  target_prefix = "${var.access_log_prefix}/${var.name}/"

  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }
}

# ---- replication to a second region ----------------------------------------------------
# Every object (its Object Lock retention included) is replicated to a locked, encrypted
# copy of the archive in replica_region, which the residency settings must allow.

locals {
  replica_name = "${var.name}-replica"
  replica_arn  = "arn:${var.partition}:s3:::${local.replica_name}"
  account_root = "arn:${var.partition}:iam::${var.account_id}:root"

  replication_role_name = "${var.name}-replication"
  replication_role_arn  = "arn:${var.partition}:iam::${var.account_id}:role/${local.replication_role_name}"

  replica_key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "ReplicationEncrypts"
        Effect    = "Allow"
        Principal = { AWS = local.replication_role_arn }
        Action    = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      },
    ]
  })

  replica_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.replica_arn, "${local.replica_arn}/*"]
        Condition = {
          Bool = { "aws:SecureTransport" = "false" }
        }
      },
      {
        Sid       = "DenyOutdatedTls"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.replica_arn, "${local.replica_arn}/*"]
        Condition = {
          NumericLessThan = { "s3:TlsVersion" = "1.2" }
        }
      },
    ]
  })

  replication_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "S3Replication"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
      }
    }]
  })

  replication_permissions = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadSourceConfiguration"
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = local.bucket_arn
      },
      {
        Sid    = "ReadSourceObjects"
        Effect = "Allow"
        Action = [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
          "s3:GetObjectRetention",
          "s3:GetObjectLegalHold",
        ]
        Resource = "${local.bucket_arn}/*"
      },
      {
        Sid      = "WriteReplica"
        Effect   = "Allow"
        Action   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]
        Resource = "${local.replica_arn}/*"
      },
      {
        Sid      = "DecryptSource"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:${var.partition}:kms:${var.region}:${var.account_id}:key/*"
        Condition = {
          StringLike = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
        }
      },
      {
        Sid      = "EncryptReplica"
        Effect   = "Allow"
        Action   = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource = "arn:${var.partition}:kms:${var.replica_region}:${var.account_id}:key/*"
        Condition = {
          StringLike = { "kms:ViaService" = "s3.${var.replica_region}.amazonaws.com" }
        }
      },
    ]
  })
}

resource "aws_iam_role" "replication" {
  name                 = local.replication_role_name
  description          = "S3 replication of ${var.name} to ${var.replica_region}"
  assume_role_policy   = local.replication_trust
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600

  tags = merge(var.tags, { Name = local.replication_role_name })
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-log-archive"
  role   = aws_iam_role.replication.name
  policy = local.replication_permissions
}

resource "aws_kms_key" "replica" {
  region                             = var.replica_region
  description                        = "Encrypts the log archive replica ${local.replica_name}"
  key_usage                          = "ENCRYPT_DECRYPT"
  customer_master_key_spec           = "SYMMETRIC_DEFAULT"
  enable_key_rotation                = true
  is_enabled                         = true
  multi_region                       = false
  bypass_policy_lockout_safety_check = false
  deletion_window_in_days            = var.replica_kms_deletion_window_in_days
  policy                             = local.replica_key_policy

  # The key policy names the replication role, which must exist first.
  depends_on = [aws_iam_role.replication]

  tags = merge(var.tags, { Name = "${local.replica_name}-key" })
}

resource "aws_s3_bucket" "replica" {
  region              = var.replica_region
  bucket              = local.replica_name
  object_lock_enabled = true
  force_destroy       = false

  tags = merge(var.tags, { Name = local.replica_name, Purpose = "log-archive" })

  lifecycle {
    precondition {
      condition     = var.replica_region != var.region
      error_message = "The replica_region must differ from the archive's region."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.replica.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_object_lock_configuration" "replica" {
  region              = var.replica_region
  bucket              = aws_s3_bucket.replica.bucket
  object_lock_enabled = "Enabled"

  rule {
    default_retention {
      mode = local.lock_mode
      days = var.retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica]
}

resource "aws_s3_bucket_policy" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket
  policy = local.replica_policy

  depends_on = [aws_s3_bucket_public_access_block.replica, aws_s3_bucket_ownership_controls.replica]
}

resource "aws_s3_bucket_logging" "replica" {
  region        = var.replica_region
  bucket        = aws_s3_bucket.replica.bucket
  target_bucket = var.replica_access_log_bucket
  target_prefix = "${var.access_log_prefix}/${local.replica_name}/"

  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }
}

resource "aws_s3_bucket_replication_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket
  role   = aws_iam_role.replication.arn

  rule {
    id     = "archive-to-${var.replica_region}"
    status = "Enabled"

    filter {}

    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = local.replica_arn
      storage_class = "STANDARD"

      encryption_configuration {
        replica_kms_key_id = aws_kms_key.replica.arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this, aws_s3_bucket_versioning.replica, aws_s3_bucket_object_lock_configuration.replica]
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  region = var.replica_region
  bucket = aws_s3_bucket.replica.bucket

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

  depends_on = [aws_s3_bucket_versioning.replica]
}
