output "result" {
  value = chunklist(["a"], -1)
}
