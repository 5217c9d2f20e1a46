output "result" {
  value = file("missing.txt")
}
