# Subnet sizing as cloudposse/terraform-aws-dynamic-subnets computes it (see ../README.md):
# ceil(log(n, 2)) new bits, cidrsubnet over a range of indexes, public and private halves of the
# block, IPv6 /64s from a /56, nulls removed with compact(), counts from booleans.
variable "ipv4_cidr_block" {
  type    = list(string)
  default = ["10.50.0.0/20"]
}
variable "ipv6_cidr_block" {
  type    = list(string)
  default = ["2600:1f18:abcd:ef00::/56"]
}
variable "availability_zones" {
  type    = list(string)
  default = ["us-east-2a", "us-east-2b", "us-east-2c"]
}
variable "max_subnet_count" {
  type    = number
  default = 0
}
variable "public_subnets_enabled" {
  type    = bool
  default = true
}

locals {
  e                    = true
  subnet_az_count      = length(var.availability_zones)
  subnet_possible_count = var.max_subnet_count == 0 ? local.subnet_az_count : var.max_subnet_count
  public_enabled       = local.e && var.public_subnets_enabled
  subnet_type_count    = local.public_enabled ? 2 : 1
  base_cidr            = var.ipv4_cidr_block[0]
  required_bits        = ceil(log(local.subnet_possible_count * local.subnet_type_count, 2))
  ipv4_private_cidrs   = [for i in range(local.subnet_possible_count) : cidrsubnet(local.base_cidr, local.required_bits, i)]
  ipv4_public_cidrs    = [for i in range(local.subnet_possible_count) : cidrsubnet(local.base_cidr, local.required_bits, i + local.subnet_possible_count)]
  ipv6_bits            = 64 - tonumber(split("/", var.ipv6_cidr_block[0])[1])
  ipv6_private_cidrs   = [for i in range(local.subnet_possible_count) : cidrsubnet(var.ipv6_cidr_block[0], local.ipv6_bits, i)]
  ipv6_public_cidrs    = [for i in range(local.subnet_possible_count) : cidrsubnet(var.ipv6_cidr_block[0], local.ipv6_bits, i + 128)]
  host_counts          = [for c in local.ipv4_private_cidrs : pow(2, 32 - tonumber(split("/", c)[1])) - 5]
  az_suffix            = [for az in var.availability_zones : substr(az, length(az) - 1, 1)]
  nat_count            = local.public_enabled ? min(local.subnet_az_count, 2) : 0
}

resource "terraform_data" "private" {
  count = local.subnet_az_count
  input = {
    cidr      = local.ipv4_private_cidrs[count.index]
    ipv6      = local.ipv6_private_cidrs[count.index]
    az        = element(var.availability_zones, count.index)
    name      = "private-${local.az_suffix[count.index]}"
    usable    = local.host_counts[count.index]
  }
}

resource "terraform_data" "public" {
  count = local.public_enabled ? local.subnet_az_count : 0
  input = { cidr = local.ipv4_public_cidrs[count.index], ipv6 = local.ipv6_public_cidrs[count.index] }
}

output "bits" { value = [local.required_bits, local.ipv6_bits, log(8, 2), log(6, 2), ceil(log(6, 2))] }
output "public" { value = local.ipv4_public_cidrs }
output "nat_count" { value = local.nat_count }
output "first_private" { value = one(slice(terraform_data.private[*].input.cidr, 0, 1)) }
