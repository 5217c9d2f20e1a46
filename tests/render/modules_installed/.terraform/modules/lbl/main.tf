variable "name" {
  type = string
}
output "id" {
  value = "lbl-${var.name}"
}
