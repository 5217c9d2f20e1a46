variable "network_name" {
  type = string
}
variable "subnets" {
  type = list(map(string))
}
variable "secondary_ranges" {
  type    = map(list(object({ range_name = string, ip_cidr_range = string })))
  default = {}
}

locals {
  subnets = {
    for x in var.subnets :
    "${x.subnet_region}/${x.subnet_name}" => x
  }
}

resource "terraform_data" "subnetwork" {
  for_each = local.subnets
  input = {
    name                     = each.value.subnet_name
    ip_cidr_range            = each.value.subnet_ip
    region                   = each.value.subnet_region
    private_ip_google_access = lookup(each.value, "subnet_private_access", "false")
    flow_logs                = lookup(each.value, "subnet_flow_logs", "false") == "true" ? [{
      aggregation_interval = lookup(each.value, "subnet_flow_logs_interval", "INTERVAL_5_SEC")
      flow_sampling        = lookup(each.value, "subnet_flow_logs_sampling", "0.5")
    }] : []
    network      = var.network_name
    description  = lookup(each.value, "description", null)
    purpose      = lookup(each.value, "purpose", null)
    secondary_ip = [for r in contains(keys(var.secondary_ranges), each.value.subnet_name) ? var.secondary_ranges[each.value.subnet_name] : [] : {
      range_name    = r.range_name
      ip_cidr_range = r.ip_cidr_range
    }]
  }
}

output "subnets" {
  value = terraform_data.subnetwork
}
output "names" {
  value = [for s in terraform_data.subnetwork : s.input.name]
}
