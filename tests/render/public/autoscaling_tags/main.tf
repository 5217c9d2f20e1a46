# Tags and instance refresh settings as terraform-aws-modules/terraform-aws-autoscaling builds
# them (see ../README.md): a map of tags turned into a list of key/value/propagate objects with
# a for expression, tags given both as a map and as a list of maps concatenated, tag keys
# filtered, a mixed-instances policy whose overrides come from a list of maps with optional
# weights, and the launch template's name used or derived.
variable "name" {
  type    = string
  default = "gateway-asg"
}
variable "tags" {
  type    = map(string)
  default = { Tier = "trading", Owner = "desk-7", "kubernetes.io/cluster/x" = "owned" }
}
variable "tags_as_list" {
  type    = list(map(string))
  default = [{ key = "Extra", value = "yes", propagate_at_launch = "false" }]
}
variable "instance_refresh" {
  type    = any
  default = { strategy = "Rolling", preferences = { min_healthy_percentage = 66 }, triggers = ["tag"] }
}
variable "override" {
  type = list(map(string))
  default = [
    { instance_type = "m6i.large", weighted_capacity = "2" },
    { instance_type = "m5.large" },
  ]
}
variable "launch_template_name" {
  type    = string
  default = ""
}

locals {
  tags_from_map = [for k, v in var.tags : { key = k, value = v, propagate_at_launch = true }]
  tags_from_list = [for t in var.tags_as_list : {
    key                 = t.key
    value               = t.value
    propagate_at_launch = tobool(lookup(t, "propagate_at_launch", "true"))
  }]
  all_tags        = concat([{ key = "Name", value = var.name, propagate_at_launch = true }], local.tags_from_map, local.tags_from_list)
  propagated_keys = [for t in local.all_tags : t.key if t.propagate_at_launch && !startswith(t.key, "kubernetes.io/")]
  launch_template = var.launch_template_name != "" ? var.launch_template_name : "${var.name}-lt"
  overrides = [for o in var.override : {
    instance_type     = o.instance_type
    weighted_capacity = lookup(o, "weighted_capacity", null)
  }]
  refresh_min_healthy = try(var.instance_refresh.preferences.min_healthy_percentage, 90)
  refresh_triggers    = toset(try(var.instance_refresh.triggers, []))
}

resource "terraform_data" "asg" {
  input = {
    name            = var.name
    tags            = local.all_tags
    launch_template = local.launch_template
    overrides       = local.overrides
    refresh         = { strategy = var.instance_refresh.strategy, min_healthy = local.refresh_min_healthy, triggers = local.refresh_triggers }
  }
}

output "propagated_keys" { value = local.propagated_keys }
output "tag_count" { value = length(local.all_tags) }
output "weights" { value = [for o in local.overrides : coalesce(o.weighted_capacity, "1")] }
