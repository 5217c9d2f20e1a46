output "result" {
  value = strrev({})
}
