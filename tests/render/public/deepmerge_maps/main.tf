# Deep merging of maps as Invicton-Labs/terraform-null-deepmerge does it (see ../README.md):
# flattening nested maps into path/value pairs level by level with can(keys(...)) tests,
# grouping by path with `...`, the last value winning, and rebuilding the tree from the paths.
variable "maps" {
  type = any
  default = [
    { region = "eu-west-1", tags = { Team = "fx", Tier = "trading" }, limits = { cpu = 2, mem = { soft = 512, hard = 1024 } } },
    { tags = { Tier = "data", Owner = "desk-7" }, limits = { mem = { hard = 2048 } }, extra = [1, 2] },
    { limits = { cpu = null }, extra = [3] },
  ]
}

locals {
  level0 = flatten([for i, m in var.maps : [for k, v in m : { path = [k], value = v, idx = i }]])
  is_map = { for i, item in local.level0 : i => try(length(keys(item.value)) > 0 && !can(tolist(item.value)), false) }
  level1 = concat(
    [for i, item in local.level0 : item if !local.is_map[i]],
    flatten([for i, item in local.level0 : [for k, v in item.value : { path = concat(item.path, [k]), value = v, idx = item.idx }] if local.is_map[i]]),
  )
  is_map1 = [for item in local.level1 : try(length(keys(item.value)) > 0 && !can(tolist(item.value)), false)]
  level2 = concat(
    [for i, item in local.level1 : item if !local.is_map1[i]],
    flatten([for i, item in local.level1 : [for k, v in item.value : { path = concat(item.path, [k]), value = v, idx = item.idx }] if local.is_map1[i]]),
  )
  by_path     = { for item in local.level2 : jsonencode(item.path) => item.value... }
  last_values = { for p, vs in local.by_path : p => vs[length(vs) - 1] }
  leaves      = [for p, v in local.last_values : { path = jsondecode(p), value = v }]
  depth       = max([for l in local.leaves : length(l.path)]...)

  rebuilt = merge(
    { for l in local.leaves : l.path[0] => l.value if length(l.path) == 1 },
    {
      for k in distinct([for l in local.leaves : l.path[0] if length(l.path) > 1]) : k => merge(
        { for l in local.leaves : l.path[1] => l.value if length(l.path) == 2 && l.path[0] == k },
        {
          for k2 in distinct([for l in local.leaves : l.path[1] if length(l.path) == 3 && l.path[0] == k]) :
          k2 => { for l in local.leaves : l.path[2] => l.value if length(l.path) == 3 && l.path[0] == k && try(l.path[1], "") == k2 }
        },
      )
    },
  )
}

resource "terraform_data" "merged" {
  input = local.rebuilt
}

output "merged" { value = local.rebuilt }
output "depth" { value = local.depth }
output "paths" { value = keys(local.by_path) }
