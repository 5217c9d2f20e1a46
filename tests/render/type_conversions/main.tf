variable "as_string_list" {
  type    = list(string)
  default = [1, true, "x", 2.5]
}

variable "as_number_map" {
  type    = map(number)
  default = { a = "1", b = 2, c = "3.25" }
}

variable "as_set" {
  type    = set(number)
  default = [3, 1, 2, 1, "2"]
}

variable "unify_objects" {
  type = list(object({ a = string }))
  default = [
    { a = 1 },
    { a = "two" },
  ]
}

variable "map_of_any" {
  type    = map(any)
  default = { a = 1, b = "two" }
}

variable "list_of_any_lists" {
  type    = list(any)
  default = [[1], ["a"]]
}

locals {
  mixed_tuple   = [1, "a", true]
  mixed_object  = { n = 1, s = "a", b = false }
  as_list       = tolist(["c", "a", "b"])
  tuple_to_list = tolist(local.mixed_tuple)
  obj_to_map    = tomap(local.mixed_object)
  set_of_string = toset(["b", "a", "b"])
  set_mixed     = toset([1, "1", "one"])
  set_sorted_n  = toset([10, 9, 100, -1])
  list_of_set   = tolist(toset(["b", "c", "a"]))
  num_str       = tonumber("0042")
  num_float     = tonumber("1.50")
  num_neg       = tonumber("-7")
  num_exp       = tonumber("1e3")
  num_null      = tonumber(null)
  str_num       = tostring(1.25)
  str_bool      = tostring(false)
  str_null      = tostring(null)
  bool_str      = tobool("true")
  bool_false    = tobool("false")
  bool_null     = tobool(null)
  implicit_cond = true ? 1 : "one"
  concat_mixed  = concat(["a"], [1])
}

resource "terraform_data" "variables" {
  input = {
    as_string_list    = var.as_string_list
    as_number_map     = var.as_number_map
    as_set            = var.as_set
    unify_objects     = var.unify_objects
    map_of_any        = var.map_of_any
    list_of_any_lists = var.list_of_any_lists
  }
}

resource "terraform_data" "functions" {
  input = {
    as_list       = local.as_list
    tuple_to_list = local.tuple_to_list
    obj_to_map    = local.obj_to_map
    set_of_string = local.set_of_string
    set_mixed     = local.set_mixed
    set_sorted_n  = local.set_sorted_n
    list_of_set   = local.list_of_set
    num_str       = local.num_str
    num_float     = local.num_float
    num_neg       = local.num_neg
    num_exp       = local.num_exp
    num_null      = local.num_null
    str_num       = local.str_num
    str_bool      = local.str_bool
    str_null      = local.str_null
    bool_str      = local.bool_str
    bool_false    = local.bool_false
    bool_null     = local.bool_null
    implicit_cond = local.implicit_cond
    concat_mixed  = local.concat_mixed
  }
}

resource "terraform_data" "typed_list" {
  input = tolist([1, 2, 3])
}

resource "terraform_data" "typed_map" {
  input = tomap({ x = "1", y = "2" })
}

resource "terraform_data" "typed_set" {
  input = toset(["q", "p"])
}

output "map_of_any" {
  value = var.map_of_any
}

output "set_mixed" {
  value = local.set_mixed
}

output "obj_to_map" {
  value = local.obj_to_map
}
