output "result" {
  value = urlencode({})
}
