variable "region" {
  type    = string
  default = "eu-west-1"
  const   = true
}

variable "count_base" {
  type    = number
  default = 1
  const   = false
}

resource "terraform_data" "typed" {
  input = var.region
}

output "num_as_string" {
  type  = string
  value = 1 + var.count_base
}

output "with_defaults" {
  type  = object({ a = string, b = optional(number, 5), c = optional(list(string), []) })
  value = { a = 1 }
}

output "set_type" {
  type  = set(string)
  value = ["b", "a", "b"]
}

output "unknown_typed" {
  type  = string
  value = terraform_data.typed.id
}

output "region" {
  value = var.region
}
