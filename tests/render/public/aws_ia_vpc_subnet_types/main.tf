# Subnet types as aws-ia/terraform-aws-vpc reads them (see ../README.md): a map of subnet type
# => settings where some keys are special (public, transit_gateway, core_network) and the rest
# are private, netmask or explicit CIDR lists chosen with can(), cidrsubnets over every zone,
# setproduct of zones and types, zipmap, keys filtered with regex and contains.
variable "az_count" {
  type    = number
  default = 2
}
variable "cidr_block" {
  type    = string
  default = "10.40.0.0/16"
}
variable "subnets" {
  type = any
  default = {
    public = {
      netmask                   = 24
      nat_gateway_configuration = "all_azs"
    }
    app = {
      cidrs                   = ["10.40.100.0/24", "10.40.101.0/24"]
      connect_to_public_natgw = true
    }
    db = {
      name_prefix = "database"
      netmask     = 27
    }
    transit_gateway = {
      netmask = 28
    }
  }
}

locals {
  azs             = slice(["eu-central-1a", "eu-central-1b", "eu-central-1c"], 0, var.az_count)
  special         = ["public", "transit_gateway", "core_network"]
  private_types   = [for t in keys(var.subnets) : t if !contains(local.special, t)]
  subnet_keys     = keys(var.subnets)
  uses_netmask    = { for t, s in var.subnets : t => can(s.netmask) }
  netmask_types   = [for t in local.subnet_keys : t if local.uses_netmask[t]]
  new_bits        = flatten([for t in local.netmask_types : [for az in local.azs : var.subnets[t].netmask - tonumber(split("/", var.cidr_block)[1])]])
  calculated      = cidrsubnets(var.cidr_block, local.new_bits...)
  calculated_by_type = {
    for i, t in local.netmask_types : t => slice(local.calculated, i * length(local.azs), (i + 1) * length(local.azs))
  }
  cidrs_by_type = {
    for t, s in var.subnets : t => local.uses_netmask[t] ? local.calculated_by_type[t] : s.cidrs
  }
  subnet_names = {
    for t, s in var.subnets : t => [for az in local.azs : "${try(s.name_prefix, t)}-${az}"]
  }
  pairs         = setproduct(local.private_types, local.azs)
  private_map   = { for p in local.pairs : "${p[0]}/${p[1]}" => p }
  nat_all_azs   = try(var.subnets.public.nat_gateway_configuration, "none") == "all_azs"
  nat_per_az    = local.nat_all_azs ? zipmap(local.azs, [for az in local.azs : "nat-${az}"]) : {}
  connected     = [for t in local.private_types : t if try(var.subnets[t].connect_to_public_natgw, false)]
  has_tgw       = contains(local.subnet_keys, "transit_gateway")
  eu_zones      = [for az in local.azs : az if length(regexall("^eu-", az)) > 0]
}

resource "terraform_data" "private" {
  for_each = local.private_map
  input = {
    type = each.value[0]
    az   = each.value[1]
    cidr = local.cidrs_by_type[each.value[0]][index(local.azs, each.value[1])]
    name = local.subnet_names[each.value[0]][index(local.azs, each.value[1])]
    nat  = contains(local.connected, each.value[0]) ? local.nat_per_az[each.value[1]] : null
  }
}

output "cidrs_by_type" { value = local.cidrs_by_type }
output "nat_per_az" { value = local.nat_per_az }
output "flags" { value = { tgw = local.has_tgw, private = local.private_types, eu = local.eu_zones } }
