output "result" {
  value = filesha1("nothing/here.txt")
}
