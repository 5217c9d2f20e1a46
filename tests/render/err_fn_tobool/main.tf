output "result" {
  value = tobool("yes")
}
