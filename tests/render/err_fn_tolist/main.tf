output "result" {
  value = tolist("a")
}
