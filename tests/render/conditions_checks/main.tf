variable "size" {
  type    = number
  default = 4

  validation {
    condition     = var.size > 0 && var.size <= 16
    error_message = "Size must be between 1 and 16."
  }

  validation {
    condition     = floor(var.size) == var.size
    error_message = "Size must be a whole number."
  }
}

variable "names" {
  type    = list(string)
  default = ["alpha", "beta"]

  validation {
    condition     = alltrue([for n in var.names : length(n) > 2])
    error_message = "Every name must be longer than two characters."
  }
}

resource "terraform_data" "sized" {
  input = var.size * 2

  lifecycle {
    precondition {
      condition     = var.size % 2 == 0
      error_message = "Size must be even."
    }

    postcondition {
      condition     = self.input == var.size * 2
      error_message = "Input must be double the size."
    }
  }
}

resource "terraform_data" "named" {
  for_each = toset(var.names)
  input    = each.key

  lifecycle {
    precondition {
      condition     = startswith(each.key, lower(each.key))
      error_message = "Names must be lower case."
    }
  }
}

check "names_sorted" {
  assert {
    condition     = join(",", sort(var.names)) == join(",", var.names)
    error_message = "Names should be sorted."
  }
}

check "size_small" {
  assert {
    condition     = var.size < 8
    error_message = "Size should be small."
  }
}

output "doubled" {
  value = terraform_data.sized.input

  precondition {
    condition     = terraform_data.sized.input > 0
    error_message = "Doubled value must be positive."
  }
}

output "names" {
  value = [for k, r in terraform_data.named : r.input]
}

check "fails_as_warning" {
  assert {
    condition     = length(var.names) > 5
    error_message = "A failing check block only warns."
  }
}
