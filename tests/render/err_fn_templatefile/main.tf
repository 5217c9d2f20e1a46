output "result" {
  value = templatefile("missing.tftpl", {})
}
