locals {
  name    = "basic"
  count   = 3
  enabled = true
  nothing = null
  numbers = [1, 2.5, -3, 0]
  tags = {
    env  = "dev"
    team = "trading"
  }
}

resource "terraform_data" "scalar" {
  input = local.name
}

resource "terraform_data" "object" {
  input = {
    name    = local.name
    count   = local.count
    enabled = local.enabled
    numbers = local.numbers
    tags    = local.tags
    empty_l = []
    empty_o = {}
  }
}

resource "terraform_data" "null_input" {
  input = local.nothing
}

resource "terraform_data" "no_input" {}

resource "terraform_data" "replace" {
  input            = "x"
  triggers_replace = [local.name, local.count]
}

output "name" {
  value = local.name
}

output "object" {
  value = terraform_data.object.input
}

output "null_output" {
  value = local.nothing
}

output "tuple" {
  value = [local.count, local.name, local.enabled, null]
}
