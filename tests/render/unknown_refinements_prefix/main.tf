resource "terraform_data" "src" {
  input = "x"
}
locals {
  s   = "x: ${uuid()}"
  id  = terraform_data.src.id
}
output "o" {
  value = {
    full_prefix = startswith(local.s, "x: ")
    short       = startswith(local.s, "x:")
    eq_pref     = local.s == "x: "
    eq_other    = local.s == "x:"
    upper_nn    = upper(local.id) != null
    len_nn      = length(local.id) != null
    cond_nn     = (local.id == "a" ? "p" : "q") != null
    neg_nn      = (-length(local.id)) != null
    not_nn      = (!(local.id == "a")) != null
    and_nn      = (local.id == "a" && true) != null
    tmpl_if     = startswith("ab%{if local.id == "x"}c%{endif}", "a")
    tmpl_for    = startswith("ab%{for x in [1,2]}${x}${local.id}%{endfor}", "ab1")
    coalesce_nn = coalesce(local.id, "z") != null
    jsonenc_nn  = jsonencode(local.id) != null
    tostr_nn    = tostring(local.id) != null
    lookup_nn   = lookup({a = local.id}, "a") != null
  }
}

locals {
  name = "svc-${terraform_data.src.id}"
}

check "prefix" {
  assert {
    condition     = startswith(local.name, "svc-")
    error_message = "name must start with svc-"
  }
}

check "not_null" {
  assert {
    condition     = (terraform_data.src.id == "a") != null
    error_message = "comparison is never null"
  }
}

check "still_unknown" {
  assert {
    condition     = startswith(local.name, "svc-abc")
    error_message = "cannot be known"
  }
}

check "differs" {
  assert {
    condition     = local.name != "other"
    error_message = "a string with another prefix differs"
  }
}

resource "terraform_data" "refined" {
  input = {
    prefix_true  = startswith(local.name, "sv")
    prefix_false = startswith(local.name, "x")
    eq_false     = local.name == "svc"
    ne_true      = local.name != "abc"
    eq_unknown   = local.name == "svc-1"
    interp_later = startswith("${local.name}-z", "s")
    unicode      = startswith("é${terraform_data.src.id}", "é")
    cond_nn      = (terraform_data.src.id == "" ? "a" : "b") != null
    cond_maybe   = (terraform_data.src.id == "" ? null : "b") != null
  }
}
