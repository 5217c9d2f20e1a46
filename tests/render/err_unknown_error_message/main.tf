variable "n" {
  type    = number
  default = 1
}
resource "terraform_data" "src" {
  input = "x"
  lifecycle {
    precondition {
      condition     = var.n > 5
      error_message = "id is ${uuid()}"
    }
  }
}
