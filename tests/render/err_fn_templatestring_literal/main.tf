output "result" {
  value = templatestring("a$${b}", { b = 1 })
}
