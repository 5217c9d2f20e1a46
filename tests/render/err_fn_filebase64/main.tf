output "result" {
  value = filebase64("missing.bin")
}
