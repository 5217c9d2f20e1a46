variable "name" {
  description = "Name prefix for the VPC and every resource in it"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "The name must match ^[a-z][a-z0-9-]{2,40}$."
  }
}

variable "cidr" {
  description = "IPv4 CIDR of the VPC, a network address with a prefix between /16 and /22"
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-2])$", var.cidr)) && try(cidrsubnet(var.cidr, 0, 0) == var.cidr, false)
    error_message = "The cidr must be a valid IPv4 network address with a prefix between /16 and /22."
  }
}

variable "azs" {
  description = "Availability zone names the three subnet tiers span (2 or 3 entries)"
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3 && length(distinct(var.azs)) == length(var.azs)
    error_message = "The azs list must hold 2 or 3 distinct availability zones."
  }

  validation {
    condition     = alltrue([for az in var.azs : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", az))])
    error_message = "Every entry of azs must be an availability zone name such as eu-west-2a."
  }
}

variable "account_id" {
  description = "AWS account id the VPC lives in"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region the VPC lives in"
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

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow log group"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "flow_log_retention_days" {
  description = "Retention of the flow log group in days (a CloudWatch Logs value of at least 365)"
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "The flow_log_retention_days must be one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of the managed policy set as permissions boundary on the flow log role"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
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
