output "result" {
  value = issensitive()
}
