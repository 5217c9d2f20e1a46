# Label chaining as cloudposse/terraform-null-label does it (see ../README.md): a context object
# of type any passed from module to module, nulls meaning "inherit", merges, case transforms,
# regex replacement, hashed truncation, descriptors built with format(...) expansion.
module "base" {
  source      = "./label"
  namespace   = "Eg"
  environment = "ue2"
  stage       = "prod"
  name        = "Trading Gateway!"
  attributes  = ["blue", "Blue", "", "x_y"]
  tags        = { Owner = "desk-7", Team = "fx" }
  descriptor_formats = {
    stack  = { format = "%v-%v", labels = ["environment", "stage"] }
    region = { format = "%s", labels = ["environment"] }
  }
}

module "child" {
  source          = "./label"
  context         = module.base.context
  name            = "orders"
  attributes      = ["replica"]
  id_length_limit = 12
  tags            = { Team = "rates" }
}

module "titled" {
  source           = "./label"
  context          = module.child.normalized_context
  label_value_case = "title"
  label_order      = ["name", "stage"]
  id_length_limit  = 0
}

module "disabled" {
  source  = "./label"
  context = module.base.context
  enabled = false
}

resource "terraform_data" "named" {
  for_each = { base = module.base.id, child = module.child.id, titled = module.titled.id }
  input    = { name = each.value, tags = module.child.tags }
}

output "base" { value = module.base }
output "child" { value = module.child }
output "titled_id" { value = module.titled.id }
output "disabled" { value = [module.disabled.id, module.disabled.tags] }
