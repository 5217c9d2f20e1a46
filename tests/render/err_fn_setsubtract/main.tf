output "result" {
  value = setsubtract(["a"])
}
