output "result" {
  value = matchkeys(["a"], [1, 2], [2])
}
