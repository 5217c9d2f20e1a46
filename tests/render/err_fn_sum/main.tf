output "result" {
  value = sum([])
}
