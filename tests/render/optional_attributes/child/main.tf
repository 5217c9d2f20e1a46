variable "config" {
  type = object({
    name = string
    deep = optional(object({
      level2 = optional(object({
        level3 = optional(object({
          value = optional(string, "deepest")
        }), {})
        count = optional(number, 3)
      }), {})
    }), {})
  })
}

resource "terraform_data" "config" {
  input = var.config
}

output "config" {
  value = var.config
}
