output "result" {
  value = strcontains("a")
}
