locals {
  summary     = "${local.prefix}: ${length(local.instances)} instances, first ${local.first}"
  first       = local.instances[local.sorted_keys[0]].name
  sorted_keys = sort(keys(local.instances))
  instances = {
    for i, n in var.names : n => {
      name  = "${local.prefix}-${n}"
      index = i
    }
  }
  prefix = "${var.project}-${terraform.workspace}"
}
