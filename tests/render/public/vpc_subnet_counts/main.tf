# Subnet and NAT gateway arithmetic as terraform-aws-modules/terraform-aws-vpc does it (see
# ../README.md): counts from lengths and flags, max(), element() wrapping around the zones,
# format() names, try() over optional inputs, merge() of tag maps with computed names,
# conditional counts that are zero, a splat over counted resources, compact/concat outputs.
variable "name" {
  type    = string
  default = "trading"
}
variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}
variable "public_subnets" {
  type    = list(string)
  default = ["10.0.101.0/24", "10.0.102.0/24"]
}
variable "private_subnets" {
  type    = list(string)
  default = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"]
}
variable "database_subnets" {
  type    = list(string)
  default = []
}
variable "enable_nat_gateway" {
  type    = bool
  default = true
}
variable "single_nat_gateway" {
  type    = bool
  default = false
}
variable "one_nat_gateway_per_az" {
  type    = bool
  default = true
}
variable "public_subnet_names" {
  type    = list(string)
  default = ["edge-a"]
}
variable "tags" {
  type    = map(string)
  default = { Environment = "prod" }
}
variable "public_subnet_tags_per_az" {
  type    = map(map(string))
  default = { "eu-west-1a" = { Zone = "a" } }
}

locals {
  len_public_subnets   = max(length(var.public_subnets), 0)
  len_private_subnets  = max(length(var.private_subnets), 0)
  len_database_subnets = length(var.database_subnets)
  max_subnet_length    = max(local.len_private_subnets, local.len_database_subnets)
  nat_gateway_count    = var.single_nat_gateway ? 1 : var.one_nat_gateway_per_az ? length(var.azs) : local.max_subnet_length
  create_public        = local.len_public_subnets > 0
  vpc_id               = try(terraform_data.vpc[0].id, "")
}

resource "terraform_data" "vpc" {
  count = 1
  input = { cidr = "10.0.0.0/16", tags = merge({ "Name" = var.name }, var.tags) }
}

resource "terraform_data" "public" {
  count = local.create_public && (!var.one_nat_gateway_per_az || local.len_public_subnets >= length(var.azs)) ? local.len_public_subnets : length(var.azs)
  input = {
    vpc_id            = local.vpc_id
    cidr_block        = element(concat(var.public_subnets, [""]), count.index)
    availability_zone = length(regexall("^[a-z]{2}-", element(var.azs, count.index))) > 0 ? element(var.azs, count.index) : null
    tags = merge(
      { Name = try(var.public_subnet_names[count.index], format("${var.name}-public-%s", element(var.azs, count.index))) },
      var.tags,
      lookup(var.public_subnet_tags_per_az, element(var.azs, count.index), {}),
    )
  }
}

resource "terraform_data" "private" {
  count = local.len_private_subnets
  input = {
    cidr_block = var.private_subnets[count.index]
    az         = element(var.azs, count.index)
    name       = format("%s-private-%s-%d", var.name, substr(element(var.azs, count.index), -1, 1), count.index)
  }
}

resource "terraform_data" "database" {
  count = local.len_database_subnets > 0 ? local.len_database_subnets : 0
  input = var.database_subnets[count.index]
}

resource "terraform_data" "nat" {
  count = var.enable_nat_gateway ? local.nat_gateway_count : 0
  input = {
    subnet_id = element(terraform_data.public[*].id, var.single_nat_gateway ? 0 : count.index)
    name      = format("${var.name}-%s", element(var.azs, var.single_nat_gateway ? 0 : count.index))
  }
}

output "counts" {
  value = { public = length(terraform_data.public), private = length(terraform_data.private), nat = local.nat_gateway_count, db = length(terraform_data.database) }
}
output "public_names" { value = terraform_data.public[*].input.tags.Name }
output "private_cidrs" { value = compact(concat(terraform_data.private[*].input.cidr_block, [""])) }
output "database_subnet_group" { value = try(terraform_data.database[0].id, null) }
output "nat_subnets_known" { value = length(terraform_data.nat[*].input.subnet_id) }
