output "result" {
  value = can()
}
