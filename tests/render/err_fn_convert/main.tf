output "result" {
  value = convert("x", number)
}
