output "result" {
  value = uuid("x")
}
