output "result" {
  value = values("a")
}
