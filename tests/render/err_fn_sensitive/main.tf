output "result" {
  value = sensitive()
}
