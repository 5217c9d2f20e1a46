output "result" {
  value = textdecodebase64("/w==", "UTF-8")
}
