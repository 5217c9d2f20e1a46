variable "environment" {
  description = "Environment name; also names every resource and the GitHub deployment environment"
  type        = string

  validation {
    condition     = contains(["dev", "test", "uat", "preprod", "prod"], var.environment)
    error_message = "The environment must be dev, test, uat, preprod or prod."
  }
}

variable "account_id" {
  description = "AWS account id of the environment; the providers refuse any other account"
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the environment (UK or EU residency)"
  type        = string

  validation {
    condition     = contains(["eu-west-2", "eu-west-1"], var.region)
    error_message = "The region must be eu-west-2 or eu-west-1."
  }
}

variable "partition" {
  description = "AWS partition"
  type        = string
  default     = "aws"

  validation {
    condition     = var.partition == "aws"
    error_message = "The partition must be aws."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the environment VPC; environments use non-overlapping /16 ranges"
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^10\\.[0-9]+\\.0\\.0/16$", var.vpc_cidr))
    error_message = "The vpc_cidr must be a 10.x.0.0/16 network."
  }
}

variable "azs" {
  description = "Availability zones of the environment VPC (2 or 3, in var.region)"
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3 && alltrue([for az in var.azs : can(regex("^${var.region}[a-z]$", az))])
    error_message = "The azs must be 2 or 3 availability zones of var.region."
  }
}

variable "log_archive_retention_days" {
  description = "Object lock retention of the log archive in days; at least 2190 in preprod and prod"
  type        = number

  validation {
    condition     = var.log_archive_retention_days >= 365 && var.log_archive_retention_days <= 36500 && floor(var.log_archive_retention_days) == var.log_archive_retention_days
    error_message = "The log_archive_retention_days must be a whole number between 365 and 36500."
  }

  validation {
    condition     = !contains(["preprod", "prod"], var.environment) || var.log_archive_retention_days >= 2190
    error_message = "The log_archive_retention_days must be at least 2190 in preprod and prod."
  }
}

variable "log_retention_days" {
  description = "Retention in days of the CloudWatch log groups (flow logs, audit trail, services); a CloudWatch value of at least 365"
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period in days before a scheduled KMS key deletion completes; 30 in prod"
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "The kms_deletion_window_in_days must be a whole number between 7 and 30."
  }

  validation {
    condition     = var.environment != "prod" || var.kms_deletion_window_in_days == 30
    error_message = "The kms_deletion_window_in_days must be 30 in prod."
  }
}

variable "trusted_principals" {
  description = "Account ids or IAM role ARNs allowed to assume the human roles; empty means the environment account itself"
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for p in var.trusted_principals :
      can(regex("^[0-9]{12}$", p)) || can(regex("^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", p))
    ])
    error_message = "Every trusted principal must be a 12-digit account id or an IAM role ARN."
  }
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose deployment environment named var.environment may deploy"
  type        = string
  default     = "example-org/landing-zone"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "The github_repository must match ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$."
  }
}

variable "owner" {
  description = "Owner tag value"
  type        = string
  default     = "platform-engineering"

  validation {
    condition     = length(trimspace(var.owner)) > 0
    error_message = "The owner must not be empty."
  }
}

variable "data_classification" {
  description = "DataClassification tag value"
  type        = string
  default     = "confidential"

  validation {
    condition     = contains(["internal", "confidential", "restricted"], var.data_classification)
    error_message = "The data_classification must be internal, confidential or restricted."
  }
}

variable "cost_centre" {
  description = "CostCentre tag value"
  type        = string
  default     = "CC-4410"

  validation {
    condition     = can(regex("^CC-[0-9]{4}$", var.cost_centre))
    error_message = "The cost_centre must look like CC-1234."
  }
}

variable "services" {
  description = "Trading services by name: tier, port, replicas, whether the port is public (ingress tier, 443 only), the tiers allowed in, egress ports within the VPC, the names of the secrets each service reads, and the owning team and cost centre (tags Owner and CostCentre; the environment's when unset; teams in governance/teams.toml)"
  type = map(object({
    tier         = string
    port         = number
    replicas     = number
    public       = optional(bool, false)
    from_tiers   = optional(list(string), [])
    egress_ports = optional(list(number), [443])
    secrets      = optional(list(string), [])
    owner        = optional(string)
    cost_centre  = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for name, s in var.services : can(regex("^[a-z][a-z0-9-]{2,30}$", name))])
    error_message = "Every service name must match ^[a-z][a-z0-9-]{2,30}$."
  }

  validation {
    condition = alltrue([
      for s in values(var.services) :
      contains(["ingress", "trading", "data"], s.tier) && alltrue([for t in s.from_tiers : contains(["ingress", "trading", "data"], t)])
    ])
    error_message = "Every tier and from_tiers entry must be ingress, trading or data."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.replicas >= 1 && s.replicas <= 20 && floor(s.replicas) == s.replicas])
    error_message = "Every service needs between 1 and 20 replicas."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : !s.public || (s.tier == "ingress" && s.port == 443)])
    error_message = "Only an ingress-tier service on port 443 may be public."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : alltrue([for n in s.secrets : can(regex("^[a-z][a-z0-9-]{1,40}$", n))])])
    error_message = "Every secret name must match ^[a-z][a-z0-9-]{1,40}$."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.owner == null || can(regex("^[a-z][a-z0-9-]{1,40}$", s.owner))])
    error_message = "Every service owner must be a team name of governance/teams.toml (^[a-z][a-z0-9-]{1,40}$)."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.cost_centre == null || can(regex("^CC-[0-9]{4}$", s.cost_centre))])
    error_message = "Every service cost_centre must look like CC-1234."
  }
}
