locals {
  name = "x"
}

output "bad" {
  type  = number
  value = local.name
}
