output "result" {
  value = tonumber("1x")
}
