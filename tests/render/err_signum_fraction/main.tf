resource "terraform_data" "sign" {
  input = signum(0.5)
}
