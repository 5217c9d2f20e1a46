output "result" {
  value = keys("a")
}
