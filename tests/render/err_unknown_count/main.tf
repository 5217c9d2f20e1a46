resource "terraform_data" "source" {
  input = "x"
}

resource "terraform_data" "dependent" {
  count = length(terraform_data.source.id) > 0 ? 1 : 0
  input = "never planned"
}
