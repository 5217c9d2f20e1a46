variable "assert" {
  type        = bool
  description = "The condition that must hold."
  validation {
    condition     = var.assert
    error_message = "Assertion failed."
  }
}
variable "error_message" {
  type    = string
  default = "Assertion failed"
}
output "ok" {
  value = var.assert
}
