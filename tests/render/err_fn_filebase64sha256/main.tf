output "result" {
  value = filebase64sha256("missing.txt")
}
