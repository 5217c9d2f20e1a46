output "result" {
  value = yamldecode("a: 1\n---\nb: 2")
}
