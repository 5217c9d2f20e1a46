output "result" {
  value = csvdecode("a,b\n1")
}
