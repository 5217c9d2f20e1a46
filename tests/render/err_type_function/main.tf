locals {
  described = type(["a", 1])
}

output "described" {
  value = local.described
}
