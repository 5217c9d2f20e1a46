output "result" {
  value = regexall("a", ["x"])
}
