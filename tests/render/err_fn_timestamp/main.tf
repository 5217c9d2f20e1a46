output "result" {
  value = timestamp(1)
}
