variable "replicas" {
  type    = number
  default = 3
}

resource "terraform_data" "cluster" {
  input = var.replicas

  lifecycle {
    precondition {
      condition     = var.replicas % 2 == 0
      error_message = "The replica count must be even, got ${var.replicas}."
    }
  }
}
