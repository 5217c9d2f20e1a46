output "result" {
  value = lookup({ a = 1 }, "b")
}
