resource "terraform_data" "instance" {
  for_each = local.instances
  input    = each.value
}

resource "terraform_data" "summary" {
  input = {
    summary = local.summary
    root    = path.root
  }
}
