locals {
  combining = "e\u0301"
  flag      = "🇬🇧"
  family    = "👨‍👩‍👧"

  text = {
    length_combining = length(local.combining)
    length_flag      = length(local.flag)
    length_family    = length(local.family)
    length_mixed     = length("a${local.combining}b${local.flag}")
    substr_combining = substr("x${local.combining}y", 1, 1)
    strrev_combining = strrev("a${local.combining}b")
    strrev_flag      = strrev("${local.flag}!")
    upper_sigma      = upper("σς")
    lower_sigma      = lower("ΣΑΣ")
    title_unicode    = title("élan vital ñandú")
    upper_dz         = upper("ǆ")
    title_dz         = title("ǆemal")
    trimspace_nbsp   = trimspace("\u00a0 x \u00a0")
    split_unicode    = split("☃", "a☃b☃c")
    replace_unicode  = replace("naïve", "ï", "i")
    format_width     = format("[%-4s|%4s]", "é", "☃")
    regex_unicode    = regex("[[:alpha:]]+", "123ñandú456")
    indent_unicode   = indent(1, "α\nβ")
    base64_unicode   = base64encode(local.family)
    url_unicode      = urlencode(local.combining)
    json_unicode     = jsonencode("${local.flag} é")
    yaml_unicode     = yamlencode({ k = "ñ", e = "${local.flag}" })
  }
}

resource "terraform_data" "text" {
  input = local.text
}

output "text" {
  value = local.text
}
