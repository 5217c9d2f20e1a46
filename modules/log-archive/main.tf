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

}

# The archive and its replica, hardened by the shared s3-bucket module: versioning, SSE-KMS with
# bucket keys, public access block, BucketOwnerEnforced, the TLS-only policy, Object Lock
# COMPLIANCE, the lifecycle and server access logging.
locals {
  archive_lifecycle = {
    id                         = "archive"
    transitions                = [{ days = var.glacier_transition_days, storage_class = "GLACIER" }, { days = var.deep_archive_transition_days, storage_class = "DEEP_ARCHIVE" }]
    noncurrent_transitions     = [{ days = var.glacier_transition_days, storage_class = "GLACIER" }]
    noncurrent_expiration_days = local.noncurrent_days
  }
}

module "bucket" {
  source = "../s3-bucket"

  name                   = var.name
  set_region             = false
  kms_key_arn            = var.kms_key_arn
  object_lock            = { mode = local.lock_mode, days = var.retention_days }
  lifecycle_rule         = local.archive_lifecycle
  policy_statements_json = jsonencode(local.cloudtrail_statements)
  access_log_bucket      = var.access_log_bucket
  access_log_prefix      = var.access_log_prefix

  account_id = var.account_id
  region     = var.region
  partition  = var.partition
  tags       = var.tags
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

module "replica" {
  source = "../s3-bucket"

  name              = local.replica_name
  kms_key_arn       = aws_kms_key.replica.arn
  object_lock       = { mode = local.lock_mode, days = var.retention_days }
  lifecycle_rule    = local.archive_lifecycle
  access_log_bucket = var.replica_access_log_bucket
  access_log_prefix = var.access_log_prefix

  account_id = var.account_id
  region     = var.replica_region
  partition  = var.partition
  tags       = merge(var.tags, { Purpose = "log-archive" })
}

resource "aws_s3_bucket_replication_configuration" "this" {
  bucket = module.bucket.name
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

  # The module's checks across inputs (they held on the bucket resources before 3.0.0).
  lifecycle {
    precondition {
      condition     = !var.allow_cloudtrail_delivery || var.cloudtrail_trail_name != null
      error_message = "The cloudtrail_trail_name must be set when allow_cloudtrail_delivery is true."
    }

    precondition {
      condition     = var.replica_region != var.region
      error_message = "The replica_region must differ from the archive's region."
    }

    precondition {
      condition     = var.deep_archive_transition_days >= var.glacier_transition_days + 90
      error_message = "The deep_archive_transition_days must be at least 90 days after glacier_transition_days."
    }

    precondition {
      condition     = local.noncurrent_days >= var.retention_days
      error_message = "The noncurrent_version_expiration_days must not be earlier than retention_days."
    }
  }

  # Replication needs versioning on both buckets and the replica's Object Lock in place: the
  # modules' outputs are available once they are.
  depends_on = [module.bucket, module.replica]
}

# Version 3.0.0 moved the buckets' resources into module.bucket and module.replica (the shared
# s3-bucket module): existing state follows them, nothing is destroyed or recreated. Both
# buckets carry Object Lock COMPLIANCE and could never be recreated under the same name.
moved {
  from = aws_s3_bucket.this
  to   = module.bucket.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_object_lock_configuration.this
  to   = module.bucket.aws_s3_bucket_object_lock_configuration.this[0]
}

moved {
  from = aws_s3_bucket_policy.this
  to   = module.bucket.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.bucket.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_logging.this
  to   = module.bucket.aws_s3_bucket_logging.this[0]
}

moved {
  from = aws_s3_bucket.replica
  to   = module.replica.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_ownership_controls.replica
  to   = module.replica.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.replica
  to   = module.replica.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_versioning.replica
  to   = module.replica.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.replica
  to   = module.replica.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_object_lock_configuration.replica
  to   = module.replica.aws_s3_bucket_object_lock_configuration.this[0]
}

moved {
  from = aws_s3_bucket_policy.replica
  to   = module.replica.aws_s3_bucket_policy.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.replica
  to   = module.replica.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_logging.replica
  to   = module.replica.aws_s3_bucket_logging.this[0]
}
