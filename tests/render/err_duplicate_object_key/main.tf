locals {
  people = [
    { name = "ann", team = "ops" },
    { name = "bob", team = "ops" },
  ]
  by_team = { for p in local.people : p.team => p.name }
}

resource "terraform_data" "teams" {
  input = local.by_team
}
