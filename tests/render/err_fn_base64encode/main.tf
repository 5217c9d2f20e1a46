output "result" {
  value = base64encode([])
}
