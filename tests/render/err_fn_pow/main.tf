output "result" {
  value = pow(2)
}
