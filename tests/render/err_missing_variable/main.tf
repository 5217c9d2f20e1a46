variable "account_id" {
  type        = string
  description = "The twelve digit account id."
}

resource "terraform_data" "account" {
  input = var.account_id
}
