locals {
  zones = ["a", "b"]
}

resource "terraform_data" "third" {
  input = local.zones[2]
}
