output "result" {
  value = trimsuffix({}, "x")
}
