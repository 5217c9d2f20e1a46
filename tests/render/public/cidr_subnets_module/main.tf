# Subnet allocation as hashicorp/terraform-cidr-subnets does it (see ../README.md): cidrsubnets
# over a splat with `...`, null names reserving space, typed list(object) input converted from
# tuples, tomap/tolist outputs, and the same module over IPv6 and with netmask arithmetic.
module "v4" {
  source          = "./subnets"
  base_cidr_block = "10.20.0.0/16"
  networks = [
    { name = "trading-a", new_bits = 8 },
    { name = "trading-b", new_bits = 8 },
    { name = null, new_bits = 4 },
    { name = "data-a", new_bits = 6 },
  ]
}

locals {
  netmasks = [24, 24, 26, 20]
  base     = "172.16.0.0/12"
  prefix   = tonumber(split("/", local.base)[1])
}

module "from_netmasks" {
  source          = "./subnets"
  base_cidr_block = local.base
  networks        = [for i, m in local.netmasks : { name = "n${i}", new_bits = m - local.prefix }]
}

module "v6" {
  source          = "./subnets"
  base_cidr_block = "fd00:fd12:3456:7890::/56"
  networks        = [{ name = "a", new_bits = 8 }, { name = "b", new_bits = 8 }]
}

resource "terraform_data" "subnet" {
  for_each = module.v4.network_cidr_blocks
  input = {
    cidr    = each.value
    gateway = cidrhost(each.value, 1)
    mask    = cidrnetmask(each.value)
  }
}

output "v4" { value = module.v4 }
output "from_netmasks" { value = module.from_netmasks.network_cidr_blocks }
output "v6" { value = module.v6.networks }
