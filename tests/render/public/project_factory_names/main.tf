# Project identifiers and API lists as terraform-google-modules/terraform-google-project-factory
# computes them (see ../README.md): a project id with an optional suffix cut to 30 characters
# with substr and trimsuffix, lower/replace normalisation of a name, labels merged, APIs as a
# set with extra ones added when flags are on, a shared VPC host chosen with a conditional of
# null, service identities as a setproduct keyed with format, and a regex-validated input.
variable "name" {
  type    = string
  default = "Trading Desk Platform Services"
}
variable "random_project_id" {
  type    = bool
  default = true
}
variable "random_suffix" {
  type    = string
  default = "a1b2"
}
variable "activate_apis" {
  type    = list(string)
  default = ["compute.googleapis.com", "container.googleapis.com", "compute.googleapis.com"]
}
variable "enable_shared_vpc" {
  type    = bool
  default = true
}
variable "svpc_host_project_id" {
  type    = string
  default = "net-host-prod"
}
variable "labels" {
  type    = map(string)
  default = { desk = "fx", env = "prod" }
}
variable "billing_account" {
  type    = string
  default = "ABCDEF-012345-6789AB"
  validation {
    condition     = can(regex("^[A-F0-9]{6}-[A-F0-9]{6}-[A-F0-9]{6}$", var.billing_account))
    error_message = "billing_account must look like XXXXXX-XXXXXX-XXXXXX."
  }
}

locals {
  base_id          = lower(replace(trimspace(var.name), "/[^a-zA-Z0-9-]+/", "-"))
  suffix           = var.random_project_id ? "-${var.random_suffix}" : ""
  max_base_length  = 30 - length(local.suffix)
  project_id       = "${trimsuffix(substr(local.base_id, 0, local.max_base_length), "-")}${local.suffix}"
  shared_vpc_apis  = var.enable_shared_vpc ? ["compute.googleapis.com", "dns.googleapis.com"] : []
  apis             = setunion(toset(var.activate_apis), toset(local.shared_vpc_apis))
  host_project     = var.enable_shared_vpc ? var.svpc_host_project_id : null
  service_accounts = ["container-engine-robot", "cloudservices"]
  identities       = { for p in setproduct(local.service_accounts, ["roles/compute.networkUser"]) : format("%s=>%s", p[0], p[1]) => { account = p[0], role = p[1] } }
  labels           = merge(var.labels, { project = local.project_id })
}

resource "terraform_data" "project" {
  input = {
    project_id      = local.project_id
    name            = substr(var.name, 0, 30)
    billing_account = var.billing_account
    labels          = local.labels
    host_project    = local.host_project
  }
}

resource "terraform_data" "api" {
  for_each = local.apis
  input    = { project = terraform_data.project.input.project_id, service = each.value }
}

output "project_id" { value = local.project_id }
output "length" { value = length(local.project_id) }
output "apis" { value = local.apis }
output "identities" { value = local.identities }
