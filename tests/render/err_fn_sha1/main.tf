output "result" {
  value = sha1({})
}
