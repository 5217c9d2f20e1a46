output "result" {
  value = startswith(1, 2, 3)
}
