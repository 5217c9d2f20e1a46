variable "name" {
  description = "Service name, used in every resource name"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "The name must match ^[a-z][a-z0-9-]{2,30}$."
  }
}

variable "tier" {
  description = "Network tier the service runs in: ingress, trading or data"
  type        = string

  validation {
    condition     = contains(["ingress", "trading", "data"], var.tier)
    error_message = "The tier must be ingress, trading or data."
  }
}

variable "port" {
  description = "TCP port the service listens on"
  type        = number

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "The port must be an integer between 1 and 65535."
  }
}

variable "replicas" {
  description = "Number of task replicas"
  type        = number

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 20 && floor(var.replicas) == var.replicas
    error_message = "The replicas must be an integer between 1 and 20."
  }
}

variable "vpc_id" {
  description = "Id of the VPC the security group belongs to"
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "ingress_rules" {
  description = "TCP ingress rules; each has a port, a description and either cidr_blocks or source_security_group_id"
  type = list(object({
    port                     = number
    description              = string
    cidr_blocks              = optional(list(string), [])
    source_security_group_id = optional(string)
  }))
  default = []

  validation {
    condition = alltrue([
      for r in var.ingress_rules : (length(r.cidr_blocks) > 0) != (r.source_security_group_id != null)
    ])
    error_message = "Every ingress rule must set exactly one of cidr_blocks or source_security_group_id."
  }

  validation {
    condition = alltrue([
      for r in var.ingress_rules : r.port >= 1 && r.port <= 65535 && length(trimspace(r.description)) > 0
    ])
    error_message = "Every ingress rule needs a port between 1 and 65535 and a non-empty description."
  }

  validation {
    condition     = alltrue([for c in flatten([for r in var.ingress_rules : r.cidr_blocks]) : can(cidrhost(c, 0))])
    error_message = "Every ingress cidr block must be a valid CIDR."
  }

  validation {
    condition = alltrue([
      for r in var.ingress_rules :
      (var.tier == "ingress" && r.port == 443) || length(setintersection(toset(r.cidr_blocks), toset(["0.0.0.0/0", "::/0"]))) == 0
    ])
    error_message = "An ingress rule may open 0.0.0.0/0 or ::/0 only on port 443 of an ingress-tier service."
  }

  validation {
    condition = alltrue([
      for r in var.ingress_rules : r.source_security_group_id == null || can(regex("^sg-[0-9a-f]+$", r.source_security_group_id))
    ])
    error_message = "Every source_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "egress_cidr_blocks" {
  description = "CIDR blocks the service may reach; neither 0.0.0.0/0 nor ::/0"
  type        = list(string)

  validation {
    condition     = length(var.egress_cidr_blocks) > 0 && alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "The egress_cidr_blocks must hold at least one valid CIDR."
  }

  validation {
    condition     = length(setintersection(toset(var.egress_cidr_blocks), toset(["0.0.0.0/0", "::/0"]))) == 0
    error_message = "The egress_cidr_blocks must not contain 0.0.0.0/0 or ::/0."
  }
}

variable "egress_ports" {
  description = "TCP ports the service may reach on the egress CIDR blocks"
  type        = list(number)
  default     = [443]

  validation {
    condition     = length(var.egress_ports) > 0 && alltrue([for p in var.egress_ports : p >= 1 && p <= 65535])
    error_message = "The egress_ports must hold at least one port between 1 and 65535."
  }
}

variable "log_retention_days" {
  description = "Retention of the service log group in days (a CloudWatch Logs value of at least 365)"
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "secret_arns" {
  description = "ARNs of the Secrets Manager secrets the task may read (references only, never secret values); the trailing -?????? wildcard is accepted"
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for a in var.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+(-\\?{6})?$", a))
    ])
    error_message = "Every secret_arns entry must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log group, and the secrets unless secrets_kms_key_arn is set"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of the managed policy set as permissions boundary on the task role"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "account_id" {
  description = "AWS account id the service runs in"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region the service runs in"
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

variable "secrets_kms_key_arn" {
  description = "ARN of the KMS key, or of its alias, that encrypts the secrets when it is not kms_key_arn; an alias ARN keeps the task policy known at plan time"
  type        = string
  default     = null

  validation {
    condition     = var.secrets_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$", var.secrets_kms_key_arn))
    error_message = "The secrets_kms_key_arn must be a KMS key ARN, a KMS alias ARN or null."
  }
}
