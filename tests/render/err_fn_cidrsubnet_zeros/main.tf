output "result" {
  value = cidrsubnet("010.0.0.0/08", 1, 2)
}
