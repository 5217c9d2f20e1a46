output "result" {
  value = plantimestamp(1)
}
