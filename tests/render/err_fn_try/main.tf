output "result" {
  value = try()
}
