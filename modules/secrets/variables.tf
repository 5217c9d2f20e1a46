variable "secrets" {
  description = "Secrets to create, keyed by secret name; values are never set here but out of band (by `cargo xtask rotate`); consumer_roles names the IAM roles that read each secret; tags are the secret's own, over `tags` (a service's Owner and CostCentre)"
  type = map(object({
    description             = string
    rotation_days           = optional(number, 30)
    rotation_lambda_arn     = optional(string)
    recovery_window_in_days = optional(number, 30)
    data_classification     = optional(string, "confidential")
    consumer_roles          = optional(list(string), [])
    tags                    = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for k in keys(var.secrets) : can(regex("^[A-Za-z0-9][A-Za-z0-9/_+=.@-]{0,255}$", k))])
    error_message = "Every secret name must be 1 to 256 letters, digits or / _ + = . @ - characters, starting with a letter or digit."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : length(trimspace(s.description)) > 0 && length(s.description) <= 2048])
    error_message = "Every secret needs a non-empty description of at most 2048 characters."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : s.rotation_days != null && try(s.rotation_days >= 1 && s.rotation_days <= 90 && floor(s.rotation_days) == s.rotation_days, false)])
    error_message = "Every rotation_days must be a whole number between 1 and 90."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : s.rotation_lambda_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$", s.rotation_lambda_arn))])
    error_message = "Every rotation_lambda_arn must be null or a Lambda function ARN."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : s.recovery_window_in_days != null && try(s.recovery_window_in_days >= 7 && s.recovery_window_in_days <= 30 && floor(s.recovery_window_in_days) == s.recovery_window_in_days, false)])
    error_message = "Every recovery_window_in_days must be a whole number between 7 and 30."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : s.consumer_roles != null && alltrue([for r in coalesce(s.consumer_roles, []) : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", r))]) && length(join(" ", coalesce(s.consumer_roles, []))) <= 256])
    error_message = "Every consumer_roles entry must be an IAM role name, all of a secret's together at most 256 characters."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : s.tags != null && length(setsubtract(keys(coalesce(s.tags, {})), ["Owner", "CostCentre"])) == 0 && alltrue([for v in values(coalesce(s.tags, {})) : length(trimspace(v)) > 0])])
    error_message = "A secret's own tags may set only Owner and CostCentre (its service's), each non-empty; Environment, DataClassification and ManagedBy come from the module."
  }

  validation {
    condition     = alltrue([for s in values(var.secrets) : contains(["internal", "confidential", "restricted"], coalesce(s.data_classification, "missing"))])
    error_message = "Every data_classification must be internal, confidential or restricted."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key or alias, in this account and region, that encrypts every secret"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN or alias ARN."
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
