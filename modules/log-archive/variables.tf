variable "name" {
  description = "Name of the log archive bucket (globally unique, no dots)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "--") && !startswith(var.name, "xn--")
    error_message = "The name must be 3 to 63 lowercase letters, digits or hyphens, start and end with a letter or digit, and hold no dots."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key or alias that encrypts every object (SSE-KMS)"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN or alias ARN."
  }
}

variable "retention_days" {
  description = "Default COMPLIANCE-mode object lock retention in days (at least 365)"
  type        = number

  validation {
    condition     = var.retention_days >= 365 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number between 365 and 36500."
  }
}

variable "glacier_transition_days" {
  description = "Age in days at which current objects move to S3 Glacier Flexible Retrieval"
  type        = number
  default     = 90

  validation {
    condition     = var.glacier_transition_days >= 30 && floor(var.glacier_transition_days) == var.glacier_transition_days
    error_message = "The glacier_transition_days must be a whole number of at least 30."
  }
}

variable "deep_archive_transition_days" {
  description = "Age in days at which current objects move to S3 Glacier Deep Archive (at least 90 days after the Glacier transition)"
  type        = number
  default     = 365

  validation {
    condition     = var.deep_archive_transition_days >= 120 && floor(var.deep_archive_transition_days) == var.deep_archive_transition_days
    error_message = "The deep_archive_transition_days must be a whole number of at least 120."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions expire; null uses retention_days, and a value below retention_days is rejected"
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_version_expiration_days == null || try(var.noncurrent_version_expiration_days >= 365 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days, false)
    error_message = "The noncurrent_version_expiration_days must be null or a whole number of at least 365."
  }
}

variable "allow_cloudtrail_delivery" {
  description = "Whether the bucket policy lets CloudTrail deliver the trail named by cloudtrail_trail_name"
  type        = bool
  default     = false
}

variable "cloudtrail_trail_name" {
  description = "Name of the trail (in this account and region) allowed to deliver logs; required when allow_cloudtrail_delivery is true"
  type        = string
  default     = null

  validation {
    condition     = var.cloudtrail_trail_name == null || can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", var.cloudtrail_trail_name))
    error_message = "The cloudtrail_trail_name must be 3 to 128 letters, digits, periods, underscores or hyphens, starting with a letter or digit."
  }
}

variable "cloudtrail_key_prefix" {
  description = "S3 key prefix the trail delivers under (must match the trail's s3_key_prefix)"
  type        = string
  default     = "cloudtrail"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.cloudtrail_key_prefix)) && length(var.cloudtrail_key_prefix) <= 200
    error_message = "The cloudtrail_key_prefix must be a non-empty S3 key prefix of at most 200 characters without leading or trailing slashes."
  }
}

variable "organization_id" {
  description = "AWS Organizations id whose organization trail may also deliver under AWSLogs/<organization_id>/; null for an account trail"
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "The organization_id must be null or an organization id such as o-a1b2c3d4e5."
  }
}

variable "account_id" {
  description = "AWS account id the resources live in"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region the resources live in"
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as eu-west-2."
  }
}

variable "partition" {
  description = "AWS partition (aws, aws-us-gov or aws-cn)"
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-us-gov", "aws-cn"], var.partition)
    error_message = "The partition must be aws, aws-us-gov or aws-cn."
  }
}

variable "tags" {
  description = "Tags applied to every resource; must include Owner, Environment, DataClassification, CostCentre and ManagedBy"
  type        = map(string)

  validation {
    condition     = length(setsubtract(["Owner", "Environment", "DataClassification", "CostCentre", "ManagedBy"], keys(var.tags))) == 0
    error_message = "The tags must include Owner, Environment, DataClassification, CostCentre and ManagedBy."
  }
}

variable "access_log_bucket" {
  description = "Name of the bucket (same account and region) receiving this bucket's S3 server access logs"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "The access_log_bucket must be an S3 bucket name without dots."
  }
}

variable "access_log_prefix" {
  description = "Key prefix in the access-log bucket; the logs land under PREFIX/<bucket name>/"
  type        = string
  default     = "s3"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.access_log_prefix))
    error_message = "The access_log_prefix must be lowercase letters, digits or hyphens."
  }
}

variable "replica_region" {
  description = "Second region holding the replica of the archive (within the residency set, not the archive's region)"
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.replica_region))
    error_message = "The replica_region must be an AWS region name such as eu-west-1."
  }
}

variable "replica_access_log_bucket" {
  description = "Name of the bucket in replica_region receiving the replica's S3 server access logs"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.replica_access_log_bucket))
    error_message = "The replica_access_log_bucket must be an S3 bucket name without dots."
  }
}

variable "replica_kms_deletion_window_in_days" {
  description = "Deletion window of the replica's KMS key in days (7 to 30)"
  type        = number
  default     = 30

  validation {
    condition     = var.replica_kms_deletion_window_in_days >= 7 && var.replica_kms_deletion_window_in_days <= 30
    error_message = "The replica_kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of the permissions boundary attached to the replication role"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}
