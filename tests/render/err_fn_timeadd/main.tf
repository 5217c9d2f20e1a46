output "result" {
  value = timeadd("2018-03-04T05:06:07Z", "1x")
}
