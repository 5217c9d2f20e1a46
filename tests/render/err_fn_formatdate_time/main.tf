output "result" {
  value = formatdate("YYYY", "2018-03-04")
}
