locals {
  names = toset(["a"])
}

output "result" {
  value = true ? local.names : { a = "b" }
}
