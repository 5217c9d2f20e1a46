variable "maybe" {
  type = object({
    name = optional(string)
    list = optional(list(string))
  })
  default = {
    name = "set"
  }
}

variable "token" {
  type      = string
  default   = "abc123"
  sensitive = true
}

locals {
  raw = jsondecode("{\"a\": {\"b\": 1}, \"list\": [10, 20]}")

  conversions = {
    can_attr         = can(local.raw.a.b)
    can_missing      = can(local.raw.a.missing)
    can_index        = can(local.raw.list[5])
    can_regex        = can(regex("^[0-9]+$", "12a"))
    can_tonumber     = can(tonumber("x"))
    can_cidr         = can(cidrhost("10.0.0.0/30", 9))
    try_first        = try(local.raw.a.b, "fallback")
    try_missing      = try(local.raw.a.missing, "fallback")
    try_chain        = try(local.raw.x, local.raw.y, local.raw.list[1])
    try_null_attr    = try(var.maybe.list[0], "no list")
    try_number       = try(tonumber("nope"), -1)
    try_types        = try(tostring(local.raw.a), "not a string")
    tobool_true      = tobool(true)
    tobool_string    = tobool("false")
    tolist_set       = tolist(toset([3, 1, 2]))
    tolist_tuple     = tolist(["a", "b"])
    tomap_object     = tomap({ a = "x", b = "y" })
    tomap_mixed      = tomap({ a = 1, b = "2" })
    tonumber_string  = tonumber("3.14159")
    tonumber_number  = tonumber(7)
    toset_dupes      = toset(["b", "a", "b"])
    toset_numbers    = toset([2, 10, 1])
    tostring_number  = tostring(12.0)
    tostring_bool    = tostring(true)
    tostring_string  = tostring("s")
    token_length     = nonsensitive(length(var.token))
    token_revealed   = nonsensitive(var.token)
    token_hash       = sha256(var.token)
    marked_constant  = sensitive(42)
    marked_list_elem = [sensitive("x"), "y"]
  }
}

resource "terraform_data" "conversions" {
  input = local.conversions
}

output "conversions" {
  value     = local.conversions
  sensitive = true
}

output "revealed" {
  value = nonsensitive(var.token)
}

output "try_values" {
  value = [local.conversions.try_first, local.conversions.try_missing, local.conversions.try_chain]
}
