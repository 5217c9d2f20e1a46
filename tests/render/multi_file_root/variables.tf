variable "project" {
  type    = string
  default = "ledger"
}

variable "names" {
  type    = list(string)
  default = ["zulu", "alpha", "mike"]
}
