output "result" {
  value = jsondecode("{")
}
