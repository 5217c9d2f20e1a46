output "summary" {
  value = local.summary
}

output "workspace" {
  value = terraform.workspace
}

output "instance_names" {
  value = sort([for k, r in terraform_data.instance : r.input.name])
}
