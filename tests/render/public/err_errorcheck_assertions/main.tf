# Plan-time assertions as rhythmictech/terraform-terraform-errorcheck offers them (see
# ../README.md): a module whose only job is to fail when a condition is false, called once per
# check with for_each and once plainly; every failing instance is reported in one run, the
# passing ones are not.
variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b"]
}
variable "subnets" {
  type    = list(string)
  default = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
}

locals {
  checks = {
    subnets_per_az = length(var.subnets) == length(var.azs)
    eu_only        = alltrue([for az in var.azs : startswith(az, "eu-")])
    private_ranges = alltrue([for s in var.subnets : cidrhost(s, 0) != "0.0.0.0"])
    no_duplicates  = length(distinct(var.subnets)) == length(var.subnets) + 1
  }
}

module "check" {
  source        = "./assert"
  for_each      = local.checks
  assert        = each.value
  error_message = "check ${each.key} failed"
}

module "single" {
  source = "./assert"
  assert = contains(var.azs, "us-east-1a")
}
