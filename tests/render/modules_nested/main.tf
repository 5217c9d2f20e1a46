locals {
  services = {
    api = { replicas = 2, workers = ["w1", "w2"] }
    web = { replicas = 1, workers = [] }
  }
}

module "service" {
  source   = "./modules/service"
  for_each = local.services

  name     = each.key
  replicas = each.value.replicas
  workers  = each.value.workers
}

module "counted" {
  source = "./modules/worker"
  count  = 2

  name  = "counted-${count.index}"
  index = count.index
}

module "disabled" {
  source = "./modules/worker"
  count  = 0

  name  = "never"
  index = 99
}

module "single" {
  source = "./modules/worker"

  name  = "single"
  index = 7
}

output "service_names" {
  value = { for k, m in module.service : k => m.name }
}

output "service_worker_labels" {
  value = { for k, m in module.service : k => m.worker_labels }
}

output "counted_labels" {
  value = module.counted[*].label
}

output "disabled_labels" {
  value = module.disabled[*].label
}

output "single" {
  value = module.single
}
