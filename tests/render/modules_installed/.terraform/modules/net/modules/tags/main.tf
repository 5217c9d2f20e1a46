variable "prefix" {
  type = string
}

output "tags" {
  value = { Name = "${var.prefix}-net", Module = path.module }
}
