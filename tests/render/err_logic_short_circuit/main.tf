# && and || short-circuit (HCL 2.22+, Terraform 1.10+): a false left operand of && and a true
# left operand of || keep the right one from being evaluated, so `can(keys(v)) && length(v) > 0`
# guards; an operand that is evaluated still fails, for each element of a for expression.
variable "items" {
  type    = any
  default = [{ a = 1 }, 2, null, [1, 2], "text"]
}
locals {
  guarded = [for v in var.items : can(keys(v)) && length(v) > 0]
  either  = [for v in var.items : v == null || length(v) > 1]
}
output "guarded" { value = local.guarded }
output "either" { value = local.either }
# The right operand is still evaluated for its marks: these outputs are sensitive.
output "marks_and" {
  value     = false && sensitive(true)
  sensitive = true
}
output "marks_or" {
  value     = true || sensitive(false)
  sensitive = true
}
