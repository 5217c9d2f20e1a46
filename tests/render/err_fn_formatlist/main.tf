output "result" {
  value = formatlist("%s", ["a"], ["b", "c"])
}
