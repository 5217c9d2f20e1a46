output "result" {
  value = tostring(["a"])
}
