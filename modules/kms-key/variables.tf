variable "alias" {
  description = "Alias of the key without the alias/ prefix, e.g. prod-logs"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias)) && !startswith(var.alias, "aws/") && !startswith(var.alias, "alias/")
    error_message = "The alias must match ^[a-zA-Z0-9/_-]{1,250}$, without the alias/ prefix and outside the reserved aws/ namespace."
  }
}

variable "description" {
  description = "Description of the key stating what it protects"
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "The description must be non-empty and at most 8192 characters."
  }
}

variable "rotation_period_in_days" {
  description = "Days between automatic rotations of the key material (90 to 2560)"
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560 && floor(var.rotation_period_in_days) == var.rotation_period_in_days
    error_message = "The rotation_period_in_days must be a whole number between 90 and 2560."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period in days before a scheduled key deletion completes (7 to 30)"
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "The deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "service_principals" {
  description = "AWS service principals allowed to use the key, e.g. logs.eu-west-2.amazonaws.com, cloudtrail.amazonaws.com, s3.amazonaws.com; each use is confined to this account"
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.service_principals : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.amazonaws\\.com(\\.cn)?$", p))])
    error_message = "Every entry of service_principals must be a service principal such as logs.eu-west-2.amazonaws.com."
  }

  validation {
    condition     = length(distinct(var.service_principals)) == length(var.service_principals)
    error_message = "The service_principals list must not hold duplicates."
  }
}

variable "admin_role_arns" {
  description = "IAM role ARNs allowed to administer (but not use) the key"
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))])
    error_message = "Every entry of admin_role_arns must be an IAM role ARN."
  }
}

variable "user_role_arns" {
  description = "IAM role ARNs allowed to use the key for cryptographic operations"
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.user_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))])
    error_message = "Every entry of user_role_arns must be an IAM role ARN."
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
