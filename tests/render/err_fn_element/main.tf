output "result" {
  value = element([], 0)
}
