output "result" {
  value = range(1, 2, 0)
}
