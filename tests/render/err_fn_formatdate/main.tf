output "result" {
  value = formatdate("YYYYY", "2018-03-04T05:06:07Z")
}
