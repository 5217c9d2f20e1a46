output "result" {
  value = textencodebase64("x", "bogus")
}
