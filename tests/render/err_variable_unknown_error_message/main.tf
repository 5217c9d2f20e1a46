# A failing validation whose error message is unknown until apply: Terraform fails with
# "Invalid error message" at the message. A passing rule and a rule whose condition is
# unknown are not evaluated for their message.
variable "v" {
  type    = string
  default = "bad"
  validation {
    condition     = var.v == "good"
    error_message = "v is ${terraform_data.x.id}"
  }
  validation {
    condition     = var.v == "bad"
    error_message = "also ${terraform_data.x.id}"
  }
}

variable "w" {
  type    = string
  default = "w"
  validation {
    condition     = var.w == terraform_data.x.id
    error_message = "w is ${terraform_data.x.id}"
  }
}

resource "terraform_data" "x" {}

output "v" { value = var.v }
output "w" { value = var.w }
