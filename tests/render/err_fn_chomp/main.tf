output "result" {
  value = chomp(["x"])
}
