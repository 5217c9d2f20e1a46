output "result" {
  value = abs("x")
}
