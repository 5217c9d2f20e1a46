output "result" {
  value = tomap(["a"])
}
