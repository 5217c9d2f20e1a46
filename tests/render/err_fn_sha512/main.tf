output "result" {
  value = sha512()
}
