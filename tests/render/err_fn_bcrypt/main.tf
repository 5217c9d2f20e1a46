output "result" {
  value = bcrypt()
}
