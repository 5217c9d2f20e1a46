output "result" {
  value = dirname({ a = 1 })
}
