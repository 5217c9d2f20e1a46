# Node group settings as terraform-aws-modules/terraform-aws-eks resolves them (see
# ../README.md): per-group values with try(group.x, defaults.x, literal) chains, merge() of
# default and group tags and labels, optional nested objects (scaling, taints) read with try,
# groups disabled by create = false filtered in for_each, and a coalesce of names.
variable "cluster_name" {
  type    = string
  default = "trading"
}
variable "node_group_defaults" {
  type = any
  default = {
    instance_types = ["m6i.large"]
    capacity_type  = "ON_DEMAND"
    labels         = { workload = "general" }
    tags           = { Owner = "platform" }
    disk_size      = 50
  }
}
variable "node_groups" {
  type = any
  default = {
    orders = {
      min_size     = 2
      max_size     = 6
      desired_size = 3
      labels       = { tier = "trading" }
      taints = {
        dedicated = { key = "dedicated", value = "orders", effect = "NO_SCHEDULE" }
      }
    }
    spot = {
      name           = "batch-spot"
      capacity_type  = "SPOT"
      instance_types = ["c6i.large", "c5.large"]
      tags           = { Cost = "low" }
    }
    off = {
      create = false
    }
  }
}

locals {
  groups = { for k, v in var.node_groups : k => v if try(v.create, true) }
}

resource "terraform_data" "node_group" {
  for_each = local.groups
  input = {
    name           = try(each.value.name, "${var.cluster_name}-${each.key}")
    use_name_prefix = try(each.value.use_name_prefix, var.node_group_defaults.use_name_prefix, true)
    instance_types = try(each.value.instance_types, var.node_group_defaults.instance_types, null)
    capacity_type  = try(each.value.capacity_type, var.node_group_defaults.capacity_type, "ON_DEMAND")
    disk_size      = try(each.value.disk_size, var.node_group_defaults.disk_size, 20)
    min_size       = try(each.value.min_size, var.node_group_defaults.min_size, 1)
    max_size       = try(each.value.max_size, var.node_group_defaults.max_size, 3)
    desired_size   = try(each.value.desired_size, var.node_group_defaults.desired_size, 1)
    labels         = merge(try(var.node_group_defaults.labels, {}), try(each.value.labels, {}))
    tags           = merge({ Name = each.key }, try(var.node_group_defaults.tags, {}), try(each.value.tags, {}))
    taints         = [for t in try(values(each.value.taints), []) : "${t.key}=${t.value}:${t.effect}"]
    update_config  = try(each.value.update_config, var.node_group_defaults.update_config, { max_unavailable_percentage = 33 })
  }
}

output "groups" { value = keys(local.groups) }
output "names" { value = { for k, g in terraform_data.node_group : k => g.input.name } }
output "sizes" { value = [for k, g in terraform_data.node_group : [g.input.min_size, g.input.desired_size, g.input.max_size]] }
