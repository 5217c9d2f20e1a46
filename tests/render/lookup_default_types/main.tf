# lookup, try, conditionals and coalesce with results of different types: an object found by
# lookup stays an object (no unification with the default); a map's default converts to the
# element type; conditionals and coalesce unify as cty does.
locals {
  obj     = { "1" = { n = 2.5, s = "x", b = true } }
  strings = tomap({ a = "x", b = "y" })
  objects = tomap({ a = { n = 1 }, b = { n = 2 } })
  partly  = { known = "k", later = terraform_data.x.id }
}

resource "terraform_data" "x" {}

output "lookup_object_found" { value = lookup(local.obj, "1", {}) }
output "lookup_object_missing" { value = lookup(local.obj, "2", { q = 1 }) }
output "lookup_object_found_string_default" { value = lookup(local.obj["1"], "n", "none") }
output "lookup_map_number_default" { value = lookup(local.strings, "z", 5) }
output "lookup_map_found" { value = lookup(local.strings, "a", 5) }
output "lookup_map_object_default" { value = lookup(local.objects, "z", { n = "7" }) }
output "lookup_partly_unknown" { value = lookup(local.partly, "known", "d") }
output "try_object" { value = try(local.obj["1"], {}) }
output "try_missing" { value = try(local.obj["2"], { q = true }) }
output "conditional_object_empty" { value = true ? local.obj["1"] : {} }
output "coalesce_object_empty" { value = coalesce(local.obj["1"], {}) }
output "coalesce_null_object" { value = coalesce(null, local.obj["1"]) }
output "coalesce_mixed_primitives" { value = coalesce(null, 1, "2") }
output "coalesce_null_empty_string" { value = coalesce(null, "", "b") }
output "coalesce_typed_null" { value = coalesce(tostring(null), "", "c") }
output "lookup_refined_unknown_not_null" { value = lookup({ a = terraform_data.x.id }, "a") != null }
