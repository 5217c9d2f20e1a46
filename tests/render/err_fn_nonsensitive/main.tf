output "result" {
  value = nonsensitive(1, 2)
}
