output "result" {
  value = lower()
}
