output "result" {
  value = upper("a", "b")
}
