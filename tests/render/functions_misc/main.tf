variable "secret" {
  type      = string
  default   = "s3cret"
  sensitive = true
}

locals {
  template = "Hello, $${name}! %%{ for n in list }[$${n}]%%{ endfor }"

  misc = {
    uuid_dns      = uuidv5("dns", "example.com")
    uuid_url      = uuidv5("url", "https://example.com/x")
    uuid_oid      = uuidv5("oid", "1.2.3")
    uuid_x500     = uuidv5("x500", "cn=x")
    uuid_custom   = uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "name")
    uuid_bad      = can(uuidv5("bogus", "x"))
    match         = matchkeys(["a", "b", "c"], [1, 2, 3], [2, 3])
    match_str     = matchkeys(["i-1", "i-2", "i-3"], ["us-a", "us-b", "us-a"], ["us-a"])
    match_empty   = matchkeys(["a"], ["x"], [])
    match_mixed   = matchkeys(["a"], ["1"], [1])
    match_len     = can(matchkeys(["a"], [1, 2], [1]))
    decode_utf16  = textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE")
    decode_utf8   = textdecodebase64(base64encode("héllo"), "UTF-8")
    decode_round  = textdecodebase64(textencodebase64("wörld", "UTF-16BE"), "UTF-16BE")
    decode_bad    = can(textdecodebase64("!!", "UTF-8"))
    decode_bytes  = can(textdecodebase64("/w==", "UTF-8"))
    decode_enc    = can(textdecodebase64("eA==", "bogus"))
    sens_plain    = issensitive("x")
    sens_var      = issensitive(var.secret)
    sens_wrapped  = issensitive(sensitive(1))
    sens_null     = issensitive(null)
    sens_unknown  = issensitive(timestamp())
    eph           = ephemeralasnull("kept")
    eph_null      = ephemeralasnull(null)
    tmpl          = templatestring(local.template, { name = "world", list = [1, 2] })
    tmpl_missing  = can(templatestring(local.template, { name = "x" }))
    core_upper    = core::upper("x")
    core_try      = core::try(core::tonumber("x"), 7)
  }

  converted = {
    to_set      = convert([1, 2, 2], set(string))
    to_object   = convert({ a = 1 }, object({ a = string, b = optional(number, 3), c = optional(list(string)) }))
    to_map      = convert({ x = 1, y = "2" }, map(number))
    to_null     = convert(null, string)
    to_tuple    = convert(["a", 1], tuple([string, string]))
    to_any_list = convert(["a", 1], list(any))
    bad_number  = can(convert("x", number))
    bad_object  = can(convert({ a = 1 }, object({ b = string })))
  }
}

resource "terraform_data" "misc" {
  input = local.misc
}

output "misc" {
  value = local.misc
}

output "converted" {
  value = local.converted
}

output "sensitive_convert" {
  value     = convert(var.secret, string)
  sensitive = true
}

output "ephemeral_sensitive" {
  value     = ephemeralasnull(var.secret)
  sensitive = true
}
