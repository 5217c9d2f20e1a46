output "result" {
  value = cidrnetmask("fe80::/64")
}
