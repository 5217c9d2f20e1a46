variable "obj" {
  type = object({
    a = string
    b = optional(string)
    c = optional(number, 3)
    d = optional(list(object({ x = optional(bool) })))
  })
}

variable "defaulted" {
  type    = object({ a = string, b = optional(string, "bee") })
  default = { a = "x" }
}

variable "num_as_string" {
  type = string
}

variable "items" {
  type = list(object({ k = optional(string) }))
}

variable "plain" {
  type    = map(any)
  default = { a = 1, b = "x" }
}

variable "from_cli" {
  type = object({ n = number, o = optional(string, "dflt") })
}

variable "cli_number" {
  type = number
}

output "obj" {
  value = var.obj
}

output "items" {
  value = var.items
}

output "from_cli" {
  value = var.from_cli
}
