output "result" {
  value = basename(null)
}
