variable "name_prefix" {
  description = "Prefix of every role and policy name, e.g. lz-prod"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "The name_prefix must match ^[a-z][a-z0-9-]{2,30}$."
  }
}

variable "account_id" {
  description = "AWS account id the roles live in"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
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

variable "trusted_principals" {
  description = "Account ids or IAM role/user ARNs allowed to assume the human roles (author, reviewer, approver, auditor, break-glass)"
  type        = list(string)

  validation {
    condition     = length(var.trusted_principals) > 0
    error_message = "At least one trusted principal is required."
  }

  validation {
    condition = alltrue([
      for p in var.trusted_principals :
      can(regex("^[0-9]{12}$", p)) || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/[A-Za-z0-9+=,.@_/-]+|user/[A-Za-z0-9+=,.@_/-]+)$", p))
    ])
    error_message = "Every trusted principal must be a 12-digit account id or an IAM root, role or user ARN without wildcards."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of an existing permissions boundary policy; when null the module creates its own boundary policy"
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration in seconds of the non-privileged roles (author, reviewer, auditor); privileged roles are fixed at 3600"
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 900 && var.max_session_duration <= 3600
    error_message = "The max_session_duration must be between 900 and 3600 seconds."
  }
}

variable "break_glass_mfa_max_age" {
  description = "Maximum age in seconds of the MFA authentication accepted by the break-glass trust policy"
  type        = number
  default     = 900

  validation {
    condition     = var.break_glass_mfa_max_age >= 300 && var.break_glass_mfa_max_age <= 3600
    error_message = "The break_glass_mfa_max_age must be between 300 and 3600 seconds."
  }
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose deployment environment may assume the deployer role"
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "The github_repository must match ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$."
  }
}

variable "github_environment" {
  description = "GitHub deployment environment whose workflow runs may assume the deployer role"
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.github_environment))
    error_message = "The github_environment must match ^[A-Za-z0-9_.-]+$."
  }
}

variable "managed_policy_arns" {
  description = "Managed policy ARNs to attach, by role key (author, reviewer, approver, deployer, auditor, break-glass)"
  type        = map(list(string))
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.managed_policy_arns), ["author", "reviewer", "approver", "deployer", "auditor", "break-glass"])) == 0
    error_message = "The managed_policy_arns keys must be among author, reviewer, approver, deployer, auditor and break-glass."
  }

  validation {
    condition = alltrue([
      for arn in flatten(values(var.managed_policy_arns)) :
      can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", arn))
    ])
    error_message = "Every managed policy ARN must be an IAM policy ARN."
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
