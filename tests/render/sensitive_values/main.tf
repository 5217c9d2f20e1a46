variable "db_password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

variable "config" {
  type = object({
    user  = string
    token = string
  })
  default = {
    user  = "svc"
    token = "t0k3n"
  }
  sensitive = true
}

variable "public" {
  type    = string
  default = "visible"
}

locals {
  marked_attr = {
    user   = "alice"
    secret = sensitive("s3cr3t")
  }
  marked_list = ["a", sensitive("b"), "c"]
  derived     = "prefix-${var.db_password}"
  length      = length(var.db_password)
  unmarked    = nonsensitive(var.db_password)
  whole       = sensitive({ a = 1, b = [1, 2] })
  cond        = var.public == "visible" ? sensitive("yes") : "no"
  merged      = merge({ plain = "p" }, { hidden = sensitive("h") })
  joined      = join(",", local.marked_list)
  upper_user  = upper(var.config.user)
}

resource "terraform_data" "sensitive_attr" {
  input = local.marked_attr
}

resource "terraform_data" "sensitive_list" {
  input = local.marked_list
}

resource "terraform_data" "whole" {
  input = local.whole
}

resource "terraform_data" "derived" {
  input = {
    derived    = local.derived
    length     = local.length
    unmarked   = local.unmarked
    cond       = local.cond
    merged     = local.merged
    joined     = local.joined
    upper_user = local.upper_user
    public     = var.public
  }
}

resource "terraform_data" "triggers" {
  input            = var.public
  triggers_replace = [var.db_password, "plain"]
}

output "password" {
  value     = var.db_password
  sensitive = true
}

output "config" {
  value     = var.config
  sensitive = true
}

output "unmarked" {
  value = nonsensitive(var.db_password)
}

output "length" {
  value = nonsensitive(length(var.db_password))
}

output "attr_secret" {
  value     = terraform_data.sensitive_attr.input
  sensitive = true
}

output "public" {
  value = var.public
}

output "public_marked" {
  value     = var.public
  sensitive = true
}
