variable "on" {
  type    = bool
  default = false
}

output "settings" {
  value = var.on ? { retention = 30 } : { replicas = ["eu-west-2"] }
}
