locals {
  people = [
    { name = "ann", team = "ops", age = 31 },
    { name = "bob", team = "dev", age = 25 },
    { name = "cat", team = "ops", age = 42 },
    { name = "dan", team = "dev", age = 19 },
    { name = "eve", team = "sec", age = 35 },
  ]
  scores = { ann = 7, bob = 3, cat = 9 }

  names         = [for p in local.people : p.name]
  upper_names   = [for i, p in local.people : "${i}:${upper(p.name)}"]
  adults        = [for p in local.people : p.name if p.age >= 21]
  by_name       = { for p in local.people : p.name => p.age }
  by_team       = { for p in local.people : p.team => p.name... }
  by_team_if    = { for p in local.people : p.team => p.age... if p.age > 20 }
  inverted      = { for k, v in local.scores : tostring(v) => k }
  score_list    = [for k, v in local.scores : "${k}=${v}"]
  filtered_map  = { for k, v in local.scores : k => v * 10 if v > 5 }
  from_set      = [for s in toset(["z", "y", "x"]) : s]
  from_string_i = [for i, c in ["p", "q"] : i]
  nested        = [for t in ["a", "b"] : [for n in [1, 2] : "${t}${n}"]]
  flat          = flatten([for t in ["a", "b"] : [for n in [1, 2] : { key = "${t}${n}" }]])
  empty         = [for x in [] : x]
  empty_map     = { for x in [] : x => x }
  object_iter   = [for k, v in { b = 2, a = 1, c = 3 } : k]
  tuple_values  = [for v in [1, "two", true] : tostring(v)]
  index_filter  = [for i, v in ["a", "b", "c", "d"] : v if i % 2 == 0]
}

resource "terraform_data" "for" {
  input = {
    names         = local.names
    upper_names   = local.upper_names
    adults        = local.adults
    by_name       = local.by_name
    by_team       = local.by_team
    by_team_if    = local.by_team_if
    inverted      = local.inverted
    score_list    = local.score_list
    filtered_map  = local.filtered_map
    from_set      = local.from_set
    from_string_i = local.from_string_i
    nested        = local.nested
    flat          = local.flat
    empty         = local.empty
    empty_map     = local.empty_map
    object_iter   = local.object_iter
    tuple_values  = local.tuple_values
    index_filter  = local.index_filter
  }
}

output "by_team" {
  value = local.by_team
}

output "filtered_map" {
  value = local.filtered_map
}

output "flat" {
  value = local.flat
}
