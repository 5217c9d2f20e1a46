locals {
  greeting = "Hello, $${name}!"
}

output "result" {
  value = templatestring(local.greeting, {})
}
