variable "name" {
  description = "Name of the bucket (globally unique, no dots)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "--") && !startswith(var.name, "xn--")
    error_message = "The name must be 3 to 63 lowercase letters, digits or hyphens, start and end with a letter or digit, and hold no dots."
  }
}

variable "set_region" {
  description = "Whether every resource sets its region argument to region; false leaves it to the provider configuration, whose region must then be region (buckets created before the region argument existed)"
  type        = bool
  default     = true
  nullable    = false
}

variable "log_destination" {
  description = "Whether the bucket is a server access log destination: default encryption SSE-S3 (the only one log delivery supports) and no access logging of its own (it would loop); kms_key_arn and access_log_bucket must then be null"
  type        = bool
  default     = false
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of the KMS key or alias, in the bucket's partition, region and account, for SSE-KMS default encryption with S3 bucket keys; null only for a log destination"
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be null or a KMS key ARN or alias ARN."
  }
}

variable "object_lock" {
  description = "Object Lock default retention (mode COMPLIANCE or GOVERNANCE, days); null creates the bucket without Object Lock, which cannot be enabled later without a new bucket"
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null || try(contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock.mode) && var.object_lock.days >= 1 && var.object_lock.days <= 36500 && floor(var.object_lock.days) == var.object_lock.days, false)
    error_message = "The object_lock must be null or a mode of COMPLIANCE or GOVERNANCE with a whole number of days between 1 and 36500."
  }
}

variable "lifecycle_rule" {
  description = "The bucket's one lifecycle rule (every object): id, optional expiration_days, transitions and noncurrent_transitions (days, storage_class), noncurrent_expiration_days (required: a versioned bucket never keeps old versions forever) and abort_incomplete_upload_days"
  type = object({
    id                           = string
    expiration_days              = optional(number)
    transitions                  = optional(list(object({ days = number, storage_class = string })), [])
    noncurrent_transitions       = optional(list(object({ days = number, storage_class = string })), [])
    noncurrent_expiration_days   = number
    abort_incomplete_upload_days = optional(number, 7)
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.lifecycle_rule.id))
    error_message = "The lifecycle_rule id must be 1 to 63 lowercase letters, digits or hyphens."
  }

  validation {
    condition = alltrue([
      for d in concat(
        [var.lifecycle_rule.noncurrent_expiration_days, var.lifecycle_rule.abort_incomplete_upload_days],
        var.lifecycle_rule.expiration_days == null ? [] : [var.lifecycle_rule.expiration_days],
        [for t in var.lifecycle_rule.transitions : t.days],
        [for t in var.lifecycle_rule.noncurrent_transitions : t.days],
      ) : d >= 1 && floor(d) == d
    ])
    error_message = "Every lifecycle_rule day count must be a whole number of at least 1."
  }

  validation {
    condition = alltrue([
      for t in concat(var.lifecycle_rule.transitions, var.lifecycle_rule.noncurrent_transitions) :
      contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], t.storage_class)
    ])
    error_message = "A lifecycle_rule transition storage_class must be STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
}

variable "policy_statements_json" {
  description = "JSON list of bucket policy statements added after the two TLS statements the module always writes (DenyInsecureTransport, DenyOutdatedTls); each needs a Sid of its own and an Effect, and none may Allow the anonymous principal \"*\""
  type        = string
  default     = "[]"
  nullable    = false

  validation {
    condition = try(alltrue([
      for s in jsondecode(var.policy_statements_json) :
      can(regex("^[A-Za-z0-9]+$", s.Sid)) && !contains(["DenyInsecureTransport", "DenyOutdatedTls"], s.Sid) && contains(["Allow", "Deny"], s.Effect) && !(s.Effect == "Allow" && try(s.Principal == "*", false))
    ]) && length(jsondecode(var.policy_statements_json)) == length(distinct([for s in jsondecode(var.policy_statements_json) : s.Sid])), false)
    error_message = "The policy_statements_json must be a JSON list of statements with distinct alphanumeric Sids other than DenyInsecureTransport and DenyOutdatedTls, an Effect of Allow or Deny, and no Allow for the principal \"*\"."
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
  description = "Name of the bucket (same account and region) receiving this bucket's S3 server access logs; null only for a log destination"
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.access_log_bucket))
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
