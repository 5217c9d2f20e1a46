locals {
  first  = "${local.second}-1"
  second = "${local.first}-2"
}

resource "terraform_data" "cycle" {
  input = local.first
}
