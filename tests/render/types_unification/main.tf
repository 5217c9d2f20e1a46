variable "routes" {
  type = map(list(object({
    primary      = any
    alternatives = list(any)
  })))
  default = {
    east = [
      { primary = 1, alternatives = [2, 3] },
      { primary = 4, alternatives = [] },
    ]
    west = [
      { primary = "a", alternatives = ["b"] },
    ]
  }
}

variable "mixed" {
  type = list(object({ value = any }))
  default = [
    { value = 1 },
    { value = "two" },
  ]
}

variable "anything" {
  type    = map(any)
  default = { a = 1, b = "x" }
}

locals {
  names = toset(["b", "a"])

  unified = {
    set_or_tuple   = true ? local.names : ["c", "d"]
    tuple_or_set   = false ? ["c", "d"] : local.names
    list_or_set    = true ? tolist(["x"]) : local.names
    set_or_list    = true ? local.names : tolist(["y"])
    set_num_tuple  = true ? toset([1, 2]) : ["3"]
    nested_tuple   = true ? [local.names] : [["e"]]
    map_or_object  = true ? tomap({ a = "1" }) : { b = 2 }
    string_number  = true ? "x" : 1
    number_string  = false ? "x" : 1
    null_or_set    = true ? null : local.names
  }
}

resource "terraform_data" "unified" {
  input = local.unified
}

output "unified" {
  value = local.unified
}

output "routes" {
  value = var.routes
}

output "mixed" {
  value = var.mixed
}

output "anything" {
  value = var.anything
}
