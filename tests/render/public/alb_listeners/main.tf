# Listeners and target groups as terraform-aws-modules/terraform-aws-alb wires them (see
# ../README.md): maps of listeners whose default action is one of several optional objects
# found with try() and length(), rules flattened out of listeners with composite keys, target
# group references by key, and lookup() with a null default.
variable "listeners" {
  type = any
  default = {
    http = {
      port     = 80
      protocol = "HTTP"
      redirect = { port = "443", protocol = "HTTPS", status_code = "HTTP_301" }
    }
    https = {
      port            = 443
      protocol        = "HTTPS"
      certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/abc"
      forward         = { target_group_key = "orders" }
      rules = {
        risk = {
          priority   = 10
          actions    = [{ type = "forward", target_group_key = "risk" }]
          conditions = [{ path_pattern = { values = ["/risk/*"] } }]
        }
        fixed = {
          actions    = [{ type = "fixed-response", content_type = "text/plain", status_code = 404 }]
          conditions = [{ host_header = { values = ["old.example.com"] } }]
        }
      }
    }
  }
}
variable "target_groups" {
  type = any
  default = {
    orders = { protocol = "HTTP", port = 8080, health_check = { path = "/health", matcher = "200-299" } }
    risk   = { protocol = "HTTP", port = 9090 }
  }
}

resource "terraform_data" "target_group" {
  for_each = var.target_groups
  input = {
    name         = "tg-${each.key}"
    port         = try(each.value.port, null)
    protocol     = try(each.value.protocol, null)
    health_path  = try(each.value.health_check.path, "/")
    matcher      = try(each.value.health_check.matcher, null)
  }
}

locals {
  listener_rules = flatten([
    for lk, lv in var.listeners : [
      for rk, rv in lookup(lv, "rules", {}) : merge(rv, { listener_key = lk, rule_key = rk })
    ]
  ])
  action_type = { for k, v in var.listeners : k => try(length(v.redirect) > 0, false) ? "redirect" : try(length(v.forward) > 0, false) ? "forward" : "fixed-response" }
}

resource "terraform_data" "listener" {
  for_each = var.listeners
  input = {
    port            = each.value.port
    protocol        = each.value.protocol
    certificate_arn = lookup(each.value, "certificate_arn", null)
    action          = local.action_type[each.key]
    redirect        = try([each.value.redirect], [])
    target_group    = try(terraform_data.target_group[each.value.forward.target_group_key].input.name, null)
  }
}

resource "terraform_data" "rule" {
  for_each = { for r in local.listener_rules : "${r.listener_key}/${r.rule_key}" => r }
  input = {
    listener = terraform_data.listener[each.value.listener_key].input.port
    priority = try(each.value.priority, null)
    actions = [for a in each.value.actions : {
      type         = a.type
      target_group = try(terraform_data.target_group[a.target_group_key].input.name, null)
      status_code  = try(tostring(a.status_code), null)
    }]
    paths = flatten([for c in each.value.conditions : try(c.path_pattern.values, [])])
    hosts = flatten([for c in each.value.conditions : try(c.host_header.values, [])])
  }
}

output "rule_keys" { value = keys(terraform_data.rule) }
output "actions" { value = local.action_type }
