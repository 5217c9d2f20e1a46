output "result" {
  value = max("a", 1)
}
