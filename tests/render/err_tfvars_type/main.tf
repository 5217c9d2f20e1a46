variable "ports" {
  type = list(number)
}

resource "terraform_data" "ports" {
  input = var.ports
}
