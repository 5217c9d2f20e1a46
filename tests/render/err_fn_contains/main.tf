output "result" {
  value = contains("a", "a")
}
