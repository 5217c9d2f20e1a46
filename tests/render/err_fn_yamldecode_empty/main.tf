output "result" {
  value = yamldecode("")
}
