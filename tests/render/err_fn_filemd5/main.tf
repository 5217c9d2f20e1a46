output "result" {
  value = filemd5("missing.txt")
}
