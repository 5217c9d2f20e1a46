output "result" {
  value = index(["a"], "b")
}
