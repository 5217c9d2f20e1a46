# check assertions whose conditions are known at plan time pass (or fail) in the plan, with unknown
# resource attributes elsewhere in the objects they read: lookup, keys, length, merge, try,
# short-circuit operators; conditions that depend on an unknown stay unknown.
resource "terraform_data" "z" {
  for_each = toset(["a", "b"])
  input    = each.key
}
resource "terraform_data" "y" {
  count = 2
  input = count.index
}
locals { ids = [for r in terraform_data.y : r.id] }
resource "terraform_data" "x" { input = "a" }
check "keys_of_resources" {
  assert {
    condition     = contains(keys(terraform_data.z), "a")
    error_message = "no"
  }
}
check "length_of_resources" {
  assert {
    condition     = length(terraform_data.z) == 2
    error_message = "no"
  }
}
check "alltrue_inputs" {
  assert {
    condition     = alltrue([for r in terraform_data.z : r.input != null])
    error_message = "no"
  }
}
check "values_length" {
  assert {
    condition     = length(values(terraform_data.z)) == 2
    error_message = "no"
  }
}
check "object_compare" {
  assert {
    condition     = terraform_data.x.input != null && terraform_data.x.input == "a"
    error_message = "no"
  }
}
check "or_short" {
  assert {
    condition     = terraform_data.x.input == "a" || terraform_data.x.id == "q"
    error_message = "no"
  }
}
check "and_short" {
  assert {
    condition     = terraform_data.x.input == "b" && terraform_data.x.id == "q"
    error_message = "no"
  }
}
check "try_known" {
  assert {
    condition     = try(terraform_data.x.input, "") == "a"
    error_message = "no"
  }
}
check "lookup_known" {
  assert {
    condition     = lookup(terraform_data.z, "a", null) != null
    error_message = "no"
  }
}
check "merge_known" {
  assert {
    condition     = merge({ a = terraform_data.x.id }, { b = 1 }).b == 1
    error_message = "no"
  }
}
check "jsonencode_nn" {
  assert {
    condition     = length(keys(merge(terraform_data.z, {}))) == 2
    error_message = "no"
  }
}
check "input_known" {
  assert {
    condition     = terraform_data.x.input == "a"
    error_message = "no"
  }
}
check "id_not_null" {
  assert {
    condition     = terraform_data.x.id != null
    error_message = "no"
  }
}
check "length_of_unknowns" {
  assert {
    condition     = length(local.ids) == 2
    error_message = "no"
  }
}
check "output_not_null" {
  assert {
    condition     = terraform_data.x.output != null
    error_message = "no"
  }
}
check "splat_length" {
  assert {
    condition     = length(terraform_data.y[*].input) == 2
    error_message = "no"
  }
}
check "can_id" {
  assert {
    condition     = can(terraform_data.x.id)
    error_message = "no"
  }
}
check "startswith" {
  assert {
    condition     = startswith("x-${terraform_data.x.id}", "x-")
    error_message = "no"
  }
}
check "mixed" {
  assert {
    condition     = terraform_data.x.input == "a"
    error_message = "no"
  }
  assert {
    condition     = terraform_data.x.id == "z"
    error_message = "no"
  }
}
