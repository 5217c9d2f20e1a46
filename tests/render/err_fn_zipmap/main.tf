output "result" {
  value = zipmap(["a"], [1, 2])
}
