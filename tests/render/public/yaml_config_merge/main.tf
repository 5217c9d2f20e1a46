# YAML configuration as cloudposse/terraform-yaml-config loads it (see ../README.md): fileset of
# YAML files, yamldecode of maps and lists, imports named in a file and read after it, a two-level
# merge of maps where the later file wins, list files concatenated, and values of mixed types
# (yes/no booleans, block scalars, flow sequences).
variable "map_config_local_base_path" {
  type    = string
  default = "config"
}
variable "map_config_paths" {
  type    = list(string)
  default = ["base.yaml"]
}
variable "list_config_paths" {
  type    = list(string)
  default = ["list.yaml", "list.yaml"]
}

locals {
  base_path     = "${path.module}/${var.map_config_local_base_path}"
  all_yaml      = sort(fileset(local.base_path, "*.yaml"))
  first         = [for p in var.map_config_paths : yamldecode(file("${local.base_path}/${p}"))]
  imports       = flatten([for c in local.first : [for i in lookup(c, "import", []) : "${i}.yaml"]])
  imported      = [for p in local.imports : yamldecode(file("${local.base_path}/${p}"))]
  all_configs   = concat(local.first, local.imported)
  top_keys      = distinct(flatten([for c in local.all_configs : keys(c) if can(keys(c))]))
  map_configs = {
    for k in local.top_keys : k => merge([
      for c in local.all_configs : lookup(c, k, {}) if can(keys(lookup(c, k, {})))
    ]...)
  }
  components = {
    for name in distinct(flatten([for c in local.all_configs : keys(lookup(c, "components", {}))])) :
    name => merge([for c in local.all_configs : lookup(lookup(c, "components", {}), name, {})]...)
  }
  list_configs = flatten([for p in var.list_config_paths : yamldecode(file("${local.base_path}/${p}"))])
}

resource "terraform_data" "component" {
  for_each = local.components
  input = {
    replicas = each.value.replicas
    enabled  = lookup(each.value, "enabled", true)
    env      = lookup(each.value, "env", {})
  }
}

output "files" { value = local.all_yaml }
output "settings" { value = local.map_configs.settings }
output "components" { value = local.components }
output "list_configs" { value = local.list_configs }
output "public_names" { value = [for s in local.list_configs : s.name if lookup(s, "public", false)] }
