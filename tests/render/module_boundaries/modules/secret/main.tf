variable "api_key" {
  type      = string
  sensitive = true
}

variable "label" {
  type = string
}

resource "terraform_data" "key" {
  input = {
    key   = var.api_key
    label = var.label
  }
}

output "label" {
  value = upper(var.label)
}

output "key_hash" {
  value     = sha256(var.api_key)
  sensitive = true
}

output "generated_id" {
  value = terraform_data.key.id
}
