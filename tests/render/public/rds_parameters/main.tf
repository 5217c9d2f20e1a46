# Database settings as terraform-aws-modules/terraform-aws-rds resolves them (see ../README.md):
# an engine family derived from engine and version with regex and split, parameters given as a
# list of maps with an optional apply_method, a name or a name prefix chosen with coalesce and
# use_name_prefix, a port from a per-engine map, a final snapshot identifier with a timestamp-
# free suffix, and create flags combined with && and ||.
variable "identifier" {
  type    = string
  default = "Orders-DB"
}
variable "engine" {
  type    = string
  default = "postgres"
}
variable "engine_version" {
  type    = string
  default = "16.3"
}
variable "family" {
  type    = string
  default = null
}
variable "parameters" {
  type = list(map(string))
  default = [
    { name = "log_min_duration_statement", value = "500" },
    { name = "rds.force_ssl", value = "1", apply_method = "pending-reboot" },
    { name = "shared_preload_libraries", value = "pg_stat_statements,pgaudit" },
  ]
}
variable "port" {
  type    = number
  default = null
}
variable "use_name_prefix" {
  type    = bool
  default = false
}
variable "create_db_parameter_group" {
  type    = bool
  default = true
}
variable "parameter_group_name" {
  type    = string
  default = null
}
variable "skip_final_snapshot" {
  type    = bool
  default = false
}

locals {
  major_version        = split(".", var.engine_version)[0]
  family               = coalesce(var.family, "${var.engine}${local.major_version}")
  default_ports        = { postgres = 5432, mysql = 3306, mariadb = 3306, "sqlserver-ee" = 1433 }
  port                 = coalesce(var.port, lookup(local.default_ports, var.engine, 0))
  name                 = lower(var.identifier)
  parameter_group_name = coalesce(var.parameter_group_name, local.name)
  create_pg            = var.create_db_parameter_group && var.parameter_group_name == null
  is_aurora            = length(regexall("^aurora", var.engine)) > 0
  final_snapshot_id    = var.skip_final_snapshot ? null : "final-${local.name}-${replace(var.engine_version, ".", "-")}"
}

resource "terraform_data" "parameter_group" {
  count = local.create_pg ? 1 : 0
  input = {
    name        = var.use_name_prefix ? null : local.parameter_group_name
    name_prefix = var.use_name_prefix ? "${local.parameter_group_name}-" : null
    family      = local.family
    parameters = [for p in var.parameters : {
      name         = p.name
      value        = p.value
      apply_method = lookup(p, "apply_method", null)
    }]
  }
}

resource "terraform_data" "instance" {
  input = {
    identifier             = local.name
    port                   = local.port
    parameter_group_name   = local.create_pg ? terraform_data.parameter_group[0].input.name : local.parameter_group_name
    final_snapshot         = local.final_snapshot_id
    aurora                 = local.is_aurora
    preload                = split(",", [for p in var.parameters : p.value if p.name == "shared_preload_libraries"][0])
  }
}

output "family" { value = local.family }
output "port" { value = local.port }
output "group_count" { value = length(terraform_data.parameter_group) }
output "reboot_parameters" { value = [for p in var.parameters : p.name if lookup(p, "apply_method", "immediate") == "pending-reboot"] }
