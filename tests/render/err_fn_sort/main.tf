output "result" {
  value = sort("a")
}
