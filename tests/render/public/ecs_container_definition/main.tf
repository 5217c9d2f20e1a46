# Container definitions as cloudposse/terraform-aws-ecs-container-definition encodes them (see
# ../README.md): an object of optional settings with nulls removed by a for expression, maps of
# environment variables turned into sorted name/value lists, port mappings with defaults,
# jsonencode of the result, replace() of quoted numbers, and the JSON wrapped in a list.
variable "container_name" {
  type    = string
  default = "gateway"
}
variable "container_image" {
  type    = string
  default = "registry.example.com/gateway:1.4.2"
}
variable "container_memory" {
  type    = number
  default = 512
}
variable "container_cpu" {
  type    = number
  default = null
}
variable "map_environment" {
  type    = map(string)
  default = { ZED = "last", ALPHA = "first", PORT = "8443" }
}
variable "environment" {
  type    = list(object({ name = string, value = string }))
  default = [{ name = "EXTRA", value = "1" }]
}
variable "port_mappings" {
  type = list(object({
    containerPort = number
    hostPort      = optional(number)
    protocol      = optional(string, "tcp")
  }))
  default = [{ containerPort = 8443 }, { containerPort = 9000, hostPort = 9000, protocol = "udp" }]
}
variable "essential" {
  type    = bool
  default = true
}

locals {
  env_from_map = [for k in sort(keys(var.map_environment)) : { name = k, value = var.map_environment[k] }]
  final_environment = concat(local.env_from_map, var.environment)
  sorted_environment = [for name in sort([for e in local.final_environment : e.name]) : [for e in local.final_environment : e if e.name == name][0]]
  container_definition = {
    name         = var.container_name
    image        = var.container_image
    memory       = var.container_memory
    cpu          = var.container_cpu
    essential    = var.essential
    environment  = local.sorted_environment
    portMappings = var.port_mappings
    command      = null
    mountPoints  = []
  }
  without_nulls = { for k, v in local.container_definition : k => v if v != null }
  json_map      = jsonencode(local.without_nulls)
  json_numbers  = replace(local.json_map, "/\"(\\d+)\"/", "$1")
}

resource "terraform_data" "task" {
  input = {
    family                = var.container_name
    container_definitions = "[${local.json_map}]"
  }
}

output "json_map_encoded" { value = local.json_map }
output "json_map_encoded_list" { value = "[${local.json_map}]" }
output "json_map_object" { value = jsondecode(local.json_map) }
output "numbers_unquoted" { value = local.json_numbers }
output "env_names" { value = local.sorted_environment[*].name }
