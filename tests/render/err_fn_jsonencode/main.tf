output "result" {
  value = jsonencode()
}
