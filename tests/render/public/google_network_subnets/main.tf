# Subnets as terraform-google-modules/terraform-google-network's subnets module declares them
# (see ../README.md): a list of string maps keyed "region/name" for for_each, optional keys
# read with lookup() (flags arriving as strings), a conditional list of one flow-log object,
# secondary ranges looked up by subnet name, and the whole resource map as a module output.
module "subnets" {
  source       = "./subnets"
  network_name = "trading-vpc"
  subnets = [
    {
      subnet_name           = "orders"
      subnet_ip             = "10.10.10.0/24"
      subnet_region         = "europe-west2"
      subnet_private_access = "true"
      subnet_flow_logs      = "true"
      description           = "order gateway"
    },
    {
      subnet_name               = "risk"
      subnet_ip                 = "10.10.20.0/24"
      subnet_region             = "europe-west2"
      subnet_flow_logs          = "true"
      subnet_flow_logs_interval = "INTERVAL_10_MIN"
      subnet_flow_logs_sampling = 0.7
    },
    {
      subnet_name   = "orders"
      subnet_ip     = "10.20.10.0/24"
      subnet_region = "europe-west3"
      purpose       = "PRIVATE"
    },
  ]
  secondary_ranges = {
    orders = [{ range_name = "pods", ip_cidr_range = "192.168.64.0/24" }]
    risk   = []
  }
}

output "subnet_ids" { value = [for k, s in module.subnets.subnets : s.id] }
output "names" { value = module.subnets.names }
output "regions" { value = distinct([for k, s in module.subnets.subnets : s.input.region]) }
