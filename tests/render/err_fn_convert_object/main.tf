output "result" {
  value = convert({ a = 1 }, object({ b = string }))
}
