output "result" {
  value = pathexpand("~other/x")
}
