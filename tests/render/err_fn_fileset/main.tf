output "result" {
  value = fileset(".", "[")
}
