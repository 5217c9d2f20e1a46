output "result" {
  value = endswith("a")
}
