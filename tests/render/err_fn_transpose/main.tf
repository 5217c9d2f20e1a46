output "result" {
  value = transpose({ a = "b" })
}
