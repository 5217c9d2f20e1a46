output "result" {
  value = parseint("12", 1)
}
