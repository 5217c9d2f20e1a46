variable "x" {}

variable "y" {
  type = string
}

variable "z" {
  default = "z"
}
