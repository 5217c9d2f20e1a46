variable "region" {
  type = string
  validation {
    condition     = startswith(var.region, "eu-")
    error_message = "Region must be in the EU."
  }
}

variable "size" {
  type    = number
  default = 3
  validation {
    condition     = var.size < 2
    error_message = "Size must be below 2, got ${var.size}."
  }
}

module "child" {
  source = "./child"
  port   = 70000
}
