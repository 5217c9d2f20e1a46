output "result" {
  value = abspath(["not", "a", "string"])
}
