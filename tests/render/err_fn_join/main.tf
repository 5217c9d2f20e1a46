output "result" {
  value = join(",", [["a"]])
}
