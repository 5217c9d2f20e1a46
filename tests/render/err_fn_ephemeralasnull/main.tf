output "result" {
  value = ephemeralasnull(1, 2)
}
