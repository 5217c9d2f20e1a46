output "result" {
  value = slice(["a"], 1, 0)
}
