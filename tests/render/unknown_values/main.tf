resource "terraform_data" "source" {
  input = "known"
}

locals {
  now      = timestamp()
  id       = uuid()
  upstream = terraform_data.source.id
  out      = terraform_data.source.output
}

resource "terraform_data" "unknowns" {
  input = {
    now         = local.now
    id          = local.id
    upstream    = local.upstream
    concat_str  = "prefix-${local.upstream}"
    upper       = upper(local.upstream)
    length      = length(local.upstream)
    equal       = local.upstream == "x"
    conditional = local.upstream == "x" ? "a" : "b"
    cond_known  = true ? "known" : local.upstream
    list        = [local.upstream, "fixed"]
    map         = { dynamic = local.upstream, static = "s" }
    formatted   = substr(local.now, 0, 4)
    joined      = join("-", ["a", local.id])
    coalesce    = coalesce(local.upstream, "fallback")
    sum_unknown = length(local.id) + 1
    output_attr = local.out
    list_len    = length([local.upstream, local.id])
    for_list    = [for s in [local.upstream, "b"] : upper(s)]
    try_unknown = try(local.upstream, "fallback")
    can_unknown = can(local.upstream)
    sensitive_u = sensitive(local.upstream)
    json        = jsonencode({ v = local.upstream })
  }
}

resource "terraform_data" "triggered" {
  input            = "static"
  triggers_replace = [terraform_data.source.id]
}

resource "terraform_data" "unknown_whole" {
  input = terraform_data.source.output
}

output "upstream_id" {
  value = terraform_data.source.id
}

output "derived" {
  value = "id=${terraform_data.source.id}"
}

output "partially_unknown" {
  value = {
    known   = "k"
    unknown = terraform_data.source.id
    list    = ["a", local.id]
  }
}

output "known_length" {
  value = length([local.upstream, local.id])
}

output "timestamp" {
  value = local.now
}

output "sensitive_unknown" {
  value     = local.upstream
  sensitive = true
}
