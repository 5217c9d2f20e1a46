output "result" {
  value = trim("x")
}
