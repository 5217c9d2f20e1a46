variable "n" {
  type = number
  validation {
    condition     = var.n > 2
    error_message = "n is too small."
  }
  validation {
    condition     = var.n > 3
    error_message = "n is much too small."
  }
}
variable "name" {
  type = string
  validation {
    condition     = length(var.name) > 3
    error_message = "name is too short."
  }
}
