output "result" {
  value = concat("a")
}
