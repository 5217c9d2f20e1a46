output "result" {
  value = trimspace(["x"])
}
