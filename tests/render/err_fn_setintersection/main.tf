output "result" {
  value = setintersection("a")
}
