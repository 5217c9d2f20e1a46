output "result" {
  value = filesha512("missing.txt")
}
