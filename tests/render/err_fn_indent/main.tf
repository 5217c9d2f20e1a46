output "result" {
  value = indent("a", "x")
}
