variable "cidr" {
  type = string
}

module "tags" {
  source = "./modules/tags"
  prefix = "corp"
}

resource "terraform_data" "net" {
  input = { cidr = var.cidr, tags = module.tags.tags, where = path.module }
}

output "subnets" {
  value = cidrsubnets(var.cidr, 8, 8)
}

output "tags" {
  value = module.tags.tags
}
