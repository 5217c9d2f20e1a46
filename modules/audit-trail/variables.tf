variable "name" {
  description = "Name of the trail; also names its log group and IAM role"
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,46}$", var.name))
    error_message = "The name must be 3 to 47 letters, digits, periods, underscores or hyphens, starting with a letter or digit."
  }
}

variable "s3_bucket_name" {
  description = "Name of the log archive bucket the trail delivers to (the log-archive module's bucket_name output)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_bucket_name))
    error_message = "The s3_bucket_name must be a valid S3 bucket name."
  }
}

variable "s3_key_prefix" {
  description = "S3 key prefix the trail delivers under (must match the log archive's cloudtrail_key_prefix)"
  type        = string
  default     = "cloudtrail"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.s3_key_prefix)) && length(var.s3_key_prefix) <= 200
    error_message = "The s3_key_prefix must be a non-empty S3 key prefix of at most 200 characters without leading or trailing slashes."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key (a key ARN, not an alias: CloudWatch Logs accepts only key ARNs) that encrypts the trail's log files and its log group"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "is_organization_trail" {
  description = "Whether the trail logs every account of the organization (only from the management or delegated administrator account)"
  type        = bool
  default     = false
}

variable "log_group_name" {
  description = "Name of the CloudWatch Logs group receiving the trail; null uses /aws/cloudtrail/<name>"
  type        = string
  default     = null

  validation {
    condition     = var.log_group_name == null || can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.log_group_name))
    error_message = "The log_group_name must be null or 1 to 512 letters, digits or _ . / # - characters."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch Logs group in days (a CloudWatch Logs value of at least 365)"
  type        = number
  default     = 2192

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of the IAM managed policy set as permissions boundary on the CloudTrail-to-CloudWatch role"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
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
