output "result" {
  value = cidrsubnets("10.0.0.0/30", 4)
}
