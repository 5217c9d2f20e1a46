output "result" {
  value = trimprefix("x")
}
