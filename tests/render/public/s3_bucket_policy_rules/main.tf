# Bucket settings as terraform-aws-modules/terraform-aws-s3-bucket reads them (see ../README.md):
# lifecycle rules given as lists of maps with optional keys read through try() chains and
# lookup(), jsondecode of a JSON policy string, policy documents built as objects and
# jsonencode()d, booleans that arrive as strings ("true") converted with tobool, flatten of
# nested transitions, and a for_each keyed by rule id.
variable "lifecycle_rule" {
  type = any
  default = [
    {
      id      = "logs"
      enabled = true
      filter  = { prefix = "logs/" }
      transition = [
        { days = 30, storage_class = "ONEZONE_IA" },
        { days = 60, storage_class = "GLACIER" },
      ]
      expiration = { days = 90 }
    },
    {
      id                                     = "tmp"
      status                                 = "Disabled"
      abort_incomplete_multipart_upload_days = 7
      noncurrent_version_expiration          = { newer_noncurrent_versions = 5, days = 30 }
    },
  ]
}
variable "versioning" {
  type    = map(string)
  default = { enabled = "true", mfa_delete = false }
}
variable "policy" {
  type    = string
  default = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Existing\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::desk-bucket/*\"}]}"
}
variable "bucket" {
  type    = string
  default = "desk-bucket"
}

locals {
  lifecycle_rules = try(jsondecode(var.lifecycle_rule), var.lifecycle_rule)
  versioning_status = try(tobool(var.versioning["enabled"]) ? "Enabled" : "Suspended", tostring(var.versioning["status"]), null)
  tls_statement = {
    Sid       = "denyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "s3:*"
    Resource  = ["arn:aws:s3:::${var.bucket}", "arn:aws:s3:::${var.bucket}/*"]
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
  existing   = jsondecode(var.policy)
  statements = concat(local.existing.Statement, [local.tls_statement])
  policy     = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "terraform_data" "rule" {
  for_each = { for r in local.lifecycle_rules : r.id => r }
  input = {
    status = try(each.value.enabled ? "Enabled" : "Disabled", tobool(each.value.status) ? "Enabled" : "Disabled", title(lower(each.value.status)))
    prefix = try(each.value.filter.prefix, each.value.prefix, null)
    abort  = try(each.value.abort_incomplete_multipart_upload_days, null)
    expiration_days = try(each.value.expiration.days, null)
    transitions = [for t in try(flatten([each.value.transition]), []) : {
      days          = try(t.days, null)
      storage_class = t.storage_class
    }]
    noncurrent_newer = try(each.value.noncurrent_version_expiration.newer_noncurrent_versions, null)
  }
}

resource "terraform_data" "policy" {
  input = local.policy
}

output "versioning_status" { value = local.versioning_status }
output "policy" { value = local.policy }
output "statement_sids" { value = [for s in local.statements : lookup(s, "Sid", "")] }
output "mfa_delete" { value = try(tobool(var.versioning["mfa_delete"]) ? "Enabled" : "Disabled", "Disabled") }
