output "result" {
  value = coalescelist("a")
}
