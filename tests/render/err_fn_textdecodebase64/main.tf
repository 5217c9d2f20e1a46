output "result" {
  value = textdecodebase64("SGVsbG8=", "bogus")
}
