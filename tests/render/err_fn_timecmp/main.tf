output "result" {
  value = timecmp("2018-03-04T05:06:07Z", "soon")
}
