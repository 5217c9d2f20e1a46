output "result" {
  value = replace("a", "b")
}
