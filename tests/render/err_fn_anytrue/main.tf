output "result" {
  value = anytrue("x")
}
