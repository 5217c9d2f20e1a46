output "result" {
  value = reverse("a")
}
