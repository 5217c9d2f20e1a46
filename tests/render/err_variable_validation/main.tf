variable "environment" {
  type    = string
  default = "staging"

  validation {
    condition     = contains(["dev", "test", "uat", "preprod", "prod"], var.environment)
    error_message = "The environment must be one of dev, test, uat, preprod or prod."
  }
}

resource "terraform_data" "env" {
  input = var.environment
}
