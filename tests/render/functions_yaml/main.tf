locals {
  doc = <<-EOT
    name: service
    replicas: 3
    ratio: 1.5
    enabled: true
    disabled: false
    nothing: null
    tilde: ~
    empty:
    quoted: "123"
    single: 'it''s'
    list:
      - a
      - 2
      - nested: [x, "y", 3]
    flow: {k: v, num: 1}
    block: |
      line one
      line two
    folded: >
      folded
      text
    negative: -4
    exp: 1e3
    unicode: "caf\u00e9"
  EOT

  yaml = {
    doc        = yamldecode(local.doc)
    scalar     = yamldecode("hello")
    number     = yamldecode("42")
    list       = yamldecode("[1, \"a\", true, null]")
    seq        = yamldecode("- a\n- b: c")
    doc_marker = yamldecode("---\nk: v\n")
    round_trip = yamldecode(yamlencode({ a = [1, 2], b = { c = "d" } }))
    empty      = can(yamldecode(""))
    multi      = can(yamldecode("a: 1\n---\nb: 2"))
    broken     = can(yamldecode(":"))
  }
}

resource "terraform_data" "yaml" {
  input = local.yaml
}

output "yaml" {
  value = local.yaml
}
