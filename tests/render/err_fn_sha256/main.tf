output "result" {
  value = sha256(["x"])
}
