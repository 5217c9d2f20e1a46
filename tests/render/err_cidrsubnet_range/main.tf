locals {
  base = "10.0.0.0/24"
}

resource "terraform_data" "subnet" {
  input = cidrsubnet(local.base, 4, 16)
}
