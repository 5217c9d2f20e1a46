variable "region" {
  type    = string
  default = "eu-west-2"
}

variable "replicas" {
  type    = number
  default = "3"
}

variable "flag" {
  type    = bool
  default = "true"
}

variable "untyped" {
  default = {
    a = 1
    b = "two"
  }
}

variable "any_typed" {
  type    = any
  default = [1, "two", true]
}

variable "names" {
  type    = list(string)
  default = ["a", 1, true]
}

variable "unique" {
  type    = set(string)
  default = ["b", "a", "b", "c"]
}

variable "ports" {
  type    = map(number)
  default = { http = "80", https = 443 }
}

variable "pair" {
  type    = tuple([string, number, bool])
  default = ["x", "12", "false"]
}

variable "nullable_default_null" {
  type    = string
  default = null
}

variable "non_nullable" {
  type     = list(string)
  default  = []
  nullable = false
}

variable "with_validation" {
  type    = string
  default = "prod-eu"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+$", var.with_validation))
    error_message = "The value must look like env-region."
  }
}

variable "nested" {
  type = object({
    name  = string
    sizes = list(number)
    meta  = map(string)
  })
  default = {
    name  = "n"
    sizes = ["1", 2, 3.5]
    meta  = { k = 1 }
    extra = "dropped"
  }
}

resource "terraform_data" "vars" {
  input = {
    region      = var.region
    replicas    = var.replicas
    flag        = var.flag
    untyped     = var.untyped
    any_typed   = var.any_typed
    names       = var.names
    unique      = var.unique
    ports       = var.ports
    pair        = var.pair
    null_string = var.nullable_default_null
    non_null    = var.non_nullable
    validated   = var.with_validation
    nested      = var.nested
  }
}

output "replicas_plus_one" {
  value = var.replicas + 1
}

output "unique" {
  value = var.unique
}

output "nested" {
  value = var.nested
}

output "ports" {
  value = var.ports
}
