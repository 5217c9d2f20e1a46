output "result" {
  value = length(1)
}
