output "result" {
  value = substr("abc", "x", 1)
}
