output "result" {
  value = one(["a", "b"])
}
