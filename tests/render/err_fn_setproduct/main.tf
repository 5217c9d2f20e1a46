output "result" {
  value = setproduct()
}
