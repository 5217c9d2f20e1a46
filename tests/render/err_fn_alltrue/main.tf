output "result" {
  value = alltrue(["x"])
}
