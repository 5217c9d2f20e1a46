variable "items" {
  type    = list(string)
  default = ["alpha", "beta", "gamma"]
}

variable "enabled" {
  type    = bool
  default = true
}

locals {
  for_plain      = "%{for i in var.items}${i},%{endfor}"
  for_index      = "%{for idx, i in var.items}[${idx}=${i}]%{endfor}"
  for_map        = "%{for k, v in { b = 2, a = 1 } }${k}:${v};%{endfor}"
  if_else        = "%{if var.enabled}on%{else}off%{endif}"
  if_only        = "x%{if !var.enabled}never%{endif}y"
  nested         = "%{for i in var.items}%{if i != "beta"}${upper(i)} %{endif}%{endfor}"
  strip_both     = <<-EOT
    start
    %{~for i in var.items~}
    ${i}
    %{~endfor~}
    end
  EOT
  strip_left     = <<-EOT
    [
    %{~for i in var.items}
      ${i}
    %{~endfor}
    ]
  EOT
  strip_right    = <<-EOT
    %{for i in var.items~}
    - ${i}
    %{endfor~}
    done
  EOT
  interp_strip   = "a  ${~"b"~}  c"
  lines          = <<EOT
%{for i in var.items~}
${i}
%{endfor~}
EOT
  list_directive = <<-EOT
    %{for i, v in var.items~}
    ${i}) ${v}%{if i < length(var.items) - 1},%{endif}
    %{endfor~}
  EOT
  nested_interp  = "outer-${"inner-${var.items[0]}-${length(var.items)}"}"
  literal_only   = "plain"
  empty          = ""
  unicode        = "naïve café ✓ ${"ß"}"
}

resource "terraform_data" "templates" {
  input = {
    for_plain      = local.for_plain
    for_index      = local.for_index
    for_map        = local.for_map
    if_else        = local.if_else
    if_only        = local.if_only
    nested         = local.nested
    strip_both     = local.strip_both
    strip_left     = local.strip_left
    strip_right    = local.strip_right
    interp_strip   = local.interp_strip
    lines          = local.lines
    list_directive = local.list_directive
    nested_interp  = local.nested_interp
    literal_only   = local.literal_only
    empty          = local.empty
    unicode        = local.unicode
  }
}

output "strip_both" {
  value = local.strip_both
}

output "list_directive" {
  value = local.list_directive
}
