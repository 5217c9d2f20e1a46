variable "from_default" {
  type    = string
  default = "default"
}

variable "from_tfvars" {
  type    = string
  default = "default"
}

variable "from_tfvars_json" {
  type    = string
  default = "default"
}

variable "from_auto_a" {
  type    = string
  default = "default"
}

variable "from_auto_b" {
  type    = string
  default = "default"
}

variable "from_var_file" {
  type    = string
  default = "default"
}

variable "from_cli" {
  type    = string
  default = "default"
}

variable "required_number" {
  type = number
}

variable "cli_list" {
  type    = list(number)
  default = []
}

variable "cli_map" {
  type    = map(string)
  default = {}
}

variable "cli_string_with_equals" {
  type    = string
  default = ""
}

variable "settings" {
  type = object({
    size = number
    tags = map(string)
  })
}

resource "terraform_data" "precedence" {
  input = {
    from_default     = var.from_default
    from_tfvars      = var.from_tfvars
    from_tfvars_json = var.from_tfvars_json
    from_auto_a      = var.from_auto_a
    from_auto_b      = var.from_auto_b
    from_var_file    = var.from_var_file
    from_cli         = var.from_cli
    required_number  = var.required_number
    cli_list         = var.cli_list
    cli_map          = var.cli_map
    with_equals      = var.cli_string_with_equals
    settings         = var.settings
  }
}

output "settings" {
  value = var.settings
}

output "sum" {
  value = var.required_number + sum(var.cli_list)
}
