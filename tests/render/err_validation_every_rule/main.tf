# Every failing validation rule of a variable is reported: both rules of the child's
# variable; the root variable's three failing rules stay hidden behind them, as in Terraform.
variable "v" {
  type    = string
  default = "bad"
  validation {
    condition     = length(var.v) > 5
    error_message = "v is too short."
  }
  validation {
    condition     = var.v == "good"
    error_message = "v is not good."
  }
  validation {
    condition     = var.v != "bad"
    error_message = "v is bad."
  }
}
module "c" {
  source = "./child"
  n      = 1
}
output "v" { value = var.v }
