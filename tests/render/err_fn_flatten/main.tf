output "result" {
  value = flatten("a")
}
