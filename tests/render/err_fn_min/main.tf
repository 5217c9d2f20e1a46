output "result" {
  value = min()
}
