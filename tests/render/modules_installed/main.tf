module "net" {
  source  = "example-corp/network/aws"
  version = "~> 1.2"
  cidr    = "10.0.0.0/16"
}

module "lbl" {
  source = "git::https://git.example.com/modules/label.git?ref=v2.0.0"
  name   = "app"
}

output "net" {
  value = module.net.subnets
}
output "lbl" {
  value = module.lbl.id
}

output "net_tags" {
  value = module.net.tags
}
