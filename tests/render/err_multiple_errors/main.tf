variable "region" {
  type    = string
  default = "us-east-1"
  validation {
    condition     = startswith(var.region, "eu-")
    error_message = "Region must be in the EU."
  }
}

module "child" {
  source = "./child"
  port   = 70000
}

locals {
  bad   = tonumber("x")
  worse = local.bad + 1
  other = cidrsubnet("10.0.0.0/8", 30, 0)
}

output "o" {
  value = local.worse
}

output "p" {
  value = local.other
}
