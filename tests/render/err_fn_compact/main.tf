output "result" {
  value = compact("a")
}
