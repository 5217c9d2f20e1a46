output "result" {
  value = distinct("a")
}
