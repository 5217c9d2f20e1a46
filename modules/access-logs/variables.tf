variable "name" {
  description = "Name of the access-log bucket (globally unique, no dots)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "--") && !startswith(var.name, "xn--")
    error_message = "The name must be 3 to 63 lowercase letters, digits or hyphens, start and end with a letter or digit, and hold no dots."
  }
}

variable "source_bucket_arns" {
  description = "ARNs of the buckets whose server access logs this bucket receives (same account and region)"
  type        = list(string)

  validation {
    condition     = length(var.source_bucket_arns) > 0 && alltrue([for a in var.source_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", a))])
    error_message = "The source_bucket_arns must be one or more S3 bucket ARNs."
  }
}

variable "key_prefix" {
  description = "Key prefix under which the source buckets deliver their logs"
  type        = string
  default     = "s3"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.key_prefix))
    error_message = "The key_prefix must be lowercase letters, digits or hyphens."
  }
}

variable "retention_days" {
  description = "Days after which access log objects expire (at least 365)"
  type        = number
  default     = 400

  validation {
    condition     = var.retention_days >= 365 && floor(var.retention_days) == var.retention_days
    error_message = "The retention_days must be a whole number of at least 365."
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
  description = "AWS region of the bucket (set on every resource); the source buckets must be in it"
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
