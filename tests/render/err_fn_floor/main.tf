output "result" {
  value = floor(["a"])
}
