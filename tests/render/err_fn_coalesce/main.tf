output "result" {
  value = coalesce(null, null)
}
