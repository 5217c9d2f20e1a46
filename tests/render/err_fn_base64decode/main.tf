output "result" {
  value = base64decode("!!")
}
