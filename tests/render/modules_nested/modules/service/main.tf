variable "name" {
  type = string
}

variable "replicas" {
  type = number
}

variable "workers" {
  type    = list(string)
  default = []
}

resource "terraform_data" "replica" {
  count = var.replicas
  input = "${var.name}-${count.index}"
}

module "worker" {
  source   = "../worker"
  for_each = toset(var.workers)

  name  = "${var.name}-${each.value}"
  index = index(var.workers, each.value)
}

output "name" {
  value = var.name
}

output "replica_inputs" {
  value = terraform_data.replica[*].input
}

output "worker_labels" {
  value = [for w in module.worker : w.label]
}
