output "result" {
  value = ceil({})
}
