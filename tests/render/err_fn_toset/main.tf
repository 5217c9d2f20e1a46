output "result" {
  value = toset("a")
}
