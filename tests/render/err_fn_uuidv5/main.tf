output "result" {
  value = uuidv5("bogus", "x")
}
