output "result" {
  value = merge("a")
}
