output "result" {
  value = split(",")
}
