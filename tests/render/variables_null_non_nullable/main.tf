# null given in tfvars to variables with nullable = false: the plan records null
# (the value as given) while the default is the value used; nullable variables keep null.
variable "v" {
  type     = string
  nullable = false
  default  = "dflt"
}

variable "w" {
  type     = object({ a = optional(string, "x") })
  nullable = false
  default  = { a = "given" }
}

variable "n" {
  type    = string
  default = "unused"
}

resource "terraform_data" "x" {
  input = [var.v, var.w, var.n]
}

output "v" { value = var.v }
output "w" { value = var.w }
output "n" { value = var.n }
output "n_wrapped" { value = { n = var.n } }
