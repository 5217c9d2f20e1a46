output "result" {
  value = log(1)
}
