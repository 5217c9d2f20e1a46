# Type descriptions with dynamic leaves: an output whose value holds nulls of no type (an
# attribute, a tuple element, a nested object) is described as the structure with "dynamic"
# leaves, never as "dynamic" as a whole; a map or list of them converts as cty does.
variable "anything" {
  type    = any
  default = { a = null, b = [null, 1], c = { d = null } }
}
output "object_null_attribute" { value = { a = null, b = "x" } }
output "tuple_null_element" { value = [null, 1, "x"] }
output "nested" { value = { a = { b = null }, c = [{ d = null }] } }
output "from_any" { value = var.anything }
output "tomap_nulls" { value = tomap({ a = null, b = null }) }
output "tolist_nulls" { value = tolist([null, null]) }
output "merge_nulls" { value = merge({ a = null }, { b = 1 }) }
output "jsondecode_null" { value = jsondecode("{\"a\": null, \"b\": [null]}") }
output "conditional_null" { value = true ? { a = null } : { a = null } }
output "try_null" { value = try({ a = null }, null) }
output "null_in_list_of_string" { value = [null, "a"] }
resource "terraform_data" "x" {
  input = { a = null, b = [null] }
}
