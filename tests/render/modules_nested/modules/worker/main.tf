variable "name" {
  type = string
}

variable "index" {
  type = number
}

locals {
  label = "${var.name}#${var.index}"
}

resource "terraform_data" "this" {
  input = {
    name   = var.name
    index  = var.index
    label  = local.label
    module = path.module
  }
}

output "label" {
  value = local.label
}

output "index" {
  value = var.index
}
