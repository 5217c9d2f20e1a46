output "result" {
  value = filebase64sha512(".")
}
