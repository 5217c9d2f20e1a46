output "result" {
  value = yamlencode()
}
