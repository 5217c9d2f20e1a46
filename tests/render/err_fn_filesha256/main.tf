output "result" {
  value = filesha256("missing.txt")
}
