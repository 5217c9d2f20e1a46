# Resource names as Azure/terraform-azurerm-naming builds them (see ../README.md): prefixes and
# suffixes joined with a separator, per-resource slugs, dashes removed where not allowed,
# lower(), substr() to each resource's maximum length, a fixed "random" suffix, regex checks of
# the result with can(regex(...)), and an object of objects as output.
variable "prefix" {
  type    = list(string)
  default = ["trd", "Prod"]
}
variable "suffix" {
  type    = list(string)
  default = ["weu"]
}
variable "unique-seed" {
  type    = string
  default = ""
}
variable "unique-length" {
  type    = number
  default = 4
}

locals {
  random_safe_generation = "x7k2q9"
  random                 = substr(coalesce(var.unique-seed, local.random_safe_generation), 0, var.unique-length)
  suffix                 = join("-", var.suffix)
  suffix_unique          = join("-", concat(var.suffix, [local.random]))
  suffix_safe            = lower(replace(local.suffix, "-", ""))
  prefix                 = join("-", var.prefix)
  prefix_safe            = lower(replace(local.prefix, "-", ""))
  specs = {
    key_vault       = { slug = "kv", min = 3, max = 24, dashes = true, scope = "global", regex = "^[a-zA-Z0-9-]{3,24}$" }
    storage_account = { slug = "st", min = 3, max = 24, dashes = false, scope = "global", regex = "^[a-z0-9]{3,24}$" }
    resource_group  = { slug = "rg", min = 1, max = 90, dashes = true, scope = "subscription", regex = "^[a-zA-Z0-9-._\\(\\)]{1,90}$" }
    virtual_network = { slug = "vnet", min = 2, max = 64, dashes = true, scope = "resourceGroup", regex = "^[a-zA-Z0-9][a-zA-Z0-9-._]{0,62}[a-zA-Z0-9_]$" }
  }
  az = {
    for k, s in local.specs : k => {
      name = substr(
        s.dashes ? join("-", compact([local.prefix, s.slug, local.suffix])) : join("", compact([local.prefix_safe, s.slug, local.suffix_safe])),
        0, s.max,
      )
      name_unique = substr(
        s.dashes ? join("-", compact([local.prefix, s.slug, local.suffix_unique])) : join("", compact([local.prefix_safe, s.slug, local.suffix_safe, local.random])),
        0, s.max,
      )
      dashes      = s.dashes
      slug        = s.slug
      min_length  = s.min
      max_length  = s.max
      scope       = s.scope
      regex       = s.regex
    }
  }
  validation = {
    for k, v in local.az : k => {
      valid_name        = length(regexall(local.specs[k].regex, v.name)) > 0 && length(v.name) >= v.min_length
      valid_name_unique = can(regex(local.specs[k].regex, v.name_unique))
    }
  }
}

resource "terraform_data" "names" {
  for_each = local.az
  input    = each.value.name_unique
}

output "names" { value = local.az }
output "validation" { value = local.validation }
output "unique" { value = local.random }
