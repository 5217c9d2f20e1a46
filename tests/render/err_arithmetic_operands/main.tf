# Arithmetic on a value that is not a number names the operand's side; on null the operation
# fails. Each output fails on its own.
locals {
  n = jsondecode("null")
}
output "a" { value = local.n + 1 }
output "b" { value = 2 * "x" }
output "c" { value = "y" - 1 }
