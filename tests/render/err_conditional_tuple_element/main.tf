variable "on" {
  type    = bool
  default = true
}

output "pair" {
  value = var.on ? [1, "a"] : [[1], "b"]
}
