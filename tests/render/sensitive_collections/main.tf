variable "secrets" {
  type = map(string)
  default = {
    db  = "pw1"
    api = "pw2"
  }
  sensitive = true
}

variable "names" {
  type    = list(string)
  default = ["b", "a"]
}

locals {
  marked_elem_list = [sensitive("s"), "p"]
  marked_elem_set  = toset([sensitive("s"), "p"])
  marked_map_value = { a = sensitive("x"), b = "y" }

  derived = {
    list_length      = length(local.marked_elem_list)
    set_length       = length(local.marked_elem_set)
    map_keys         = keys(local.marked_map_value)
    map_values       = values(local.marked_map_value)
    lookup_plain     = lookup(local.marked_map_value, "b", "none")
    lookup_marked    = lookup(local.marked_map_value, "a", "none")
    secret_keys      = nonsensitive(keys(var.secrets))
    secret_count     = length(var.secrets)
    joined_secret    = join(",", values(var.secrets))
    for_over_secret  = [for k, v in var.secrets : upper(v)]
    cond_on_secret   = var.secrets["db"] == "pw1" ? "match" : "nomatch"
    template_secret  = "%{for v in values(var.secrets)}${v};%{endfor}"
    elem_index_plain = local.marked_elem_list[1]
    elem_index_mark  = local.marked_elem_list[0]
    sorted_names     = sort(concat(var.names, [sensitive("c")]))
    contains_marked  = contains(local.marked_elem_list, "p")
    json_marked      = jsonencode(local.marked_map_value)
    tomap_marked     = tomap(local.marked_map_value)
  }
}

resource "terraform_data" "derived" {
  input = local.derived
}

resource "terraform_data" "per_secret" {
  for_each = nonsensitive(toset(keys(var.secrets)))
  input    = var.secrets[each.key]
}

resource "terraform_data" "elements" {
  input = {
    list = local.marked_elem_list
    set  = local.marked_elem_set
    map  = local.marked_map_value
  }
}

output "secret_count" {
  value = nonsensitive(local.derived.secret_count)
}

output "per_secret_keys" {
  value = keys(terraform_data.per_secret)
}

output "derived" {
  value     = local.derived
  sensitive = true
}
