locals {
  name = "Upper-Case"
}

resource "terraform_data" "named" {
  input = local.name

  lifecycle {
    postcondition {
      condition     = self.input == lower(self.input)
      error_message = "The name must be lower case."
    }
  }
}
