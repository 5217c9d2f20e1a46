variable "release" {
  description = "Digest of the release artifact being deployed"
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release))
    error_message = "The release must be a sha256 digest (64 lowercase hex digits)."
  }
}

variable "bake_seconds" {
  description = "Seconds the canary holds after applying before the promotion completes"
  type        = number
  default     = 0

  validation {
    condition     = var.bake_seconds >= 0 && var.bake_seconds <= 3600
    error_message = "The bake_seconds must be between 0 and 3600."
  }
}

variable "environment" {
  description = "Environment name"
  type        = string

  validation {
    condition     = contains(["dev", "test", "uat", "preprod", "prod"], var.environment)
    error_message = "The environment must be dev, test, uat, preprod or prod."
  }
}

variable "account_id" {
  description = "AWS account id of the environment"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the environment"
  type        = string
}

variable "vpc_cidr" {
  description = "Overlay value: VPC CIDR"
  type        = string
  default     = null
}

variable "azs" {
  description = "Overlay value: availability zones"
  type        = list(string)
  default     = []
}

variable "log_archive_retention_days" {
  description = "Overlay value: log archive Object Lock retention"
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "Overlay value: log group retention"
  type        = number
  default     = null
}

variable "kms_deletion_window_in_days" {
  description = "Overlay value: KMS key deletion window"
  type        = number
  default     = null
}

variable "services" {
  description = "Overlay value: trading services"
  type        = any
  default     = {}
}

variable "trusted_principals" {
  description = "Overlay value: principals trusted by the human roles"
  type        = list(string)
  default     = []
}
