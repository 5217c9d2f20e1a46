variable "api_key" {
  type      = string
  default   = "k-123"
  sensitive = true
}

module "secret" {
  source  = "./modules/secret"
  api_key = var.api_key
  label   = "prod"
}

module "fanout" {
  source   = "./modules/secret"
  for_each = { a = "alpha", b = "beta" }
  api_key  = "${each.key}-key"
  label    = each.value
}

resource "terraform_data" "consumer" {
  input = {
    label        = module.secret.label
    key_hash     = module.secret.key_hash
    generated_id = module.secret.generated_id
    fan_labels   = [for k, m in module.fanout : m.label]
    workspace    = terraform.workspace
  }
}

output "label" {
  value = module.secret.label
}

output "key_hash" {
  value     = module.secret.key_hash
  sensitive = true
}

output "generated_id" {
  value = module.secret.generated_id
}

output "fanout_labels" {
  value = { for k, m in module.fanout : k => m.label }
}

output "fanout_ids" {
  value = { for k, m in module.fanout : k => m.generated_id }
}
