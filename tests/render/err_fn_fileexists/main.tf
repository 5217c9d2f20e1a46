output "result" {
  value = fileexists(".")
}
