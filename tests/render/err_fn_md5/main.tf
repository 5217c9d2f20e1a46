output "result" {
  value = md5()
}
