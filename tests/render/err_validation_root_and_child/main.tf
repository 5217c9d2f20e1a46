# A root variable's failing validations reported together with a child's: the child's
# arguments come from root variables, so nothing fails before the plan walk, which evaluates
# (and reports) every failing rule of both.
variable "size" {
  type    = number
  default = 1
  validation {
    condition     = var.size >= 2
    error_message = "size must be at least 2."
  }
  validation {
    condition     = var.size >= 4
    error_message = "size must be at least 4."
  }
}
variable "label" {
  type    = string
  default = "ab"
}
module "c" {
  source = "./child"
  n      = var.size
  name   = var.label
}
module "d" {
  source = "./child"
  n      = var.size + 5
  name   = "${var.label}!"
}
