variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

output "password_length" {
  value = length(var.password)
}
