output "result" {
  value = title(["x"])
}
