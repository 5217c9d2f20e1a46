variable "name" {
  description = "Name of the Terraform state bucket (globally unique, no dots)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "--") && !startswith(var.name, "xn--")
    error_message = "The name must be 3 to 63 lowercase letters, digits or hyphens, start and end with a letter or digit, and hold no dots."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key or alias, in the bucket's account and region, that encrypts the state (SSE-KMS)"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN or alias ARN."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent state versions expire (at least 90)"
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 90 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "The noncurrent_version_expiration_days must be a whole number of at least 90."
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
