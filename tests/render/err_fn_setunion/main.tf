output "result" {
  value = setunion()
}
