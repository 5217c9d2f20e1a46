resource "terraform_data" "source" {
  input = "known"
}

locals {
  id   = terraform_data.source.id
  uuid = uuid()
  now  = timestamp()
}

resource "terraform_data" "refined" {
  input = {
    id_not_null      = local.id != null
    id_is_null       = local.id == null
    uuid_not_null    = local.uuid != null
    uuid_length      = length(local.uuid)
    now_not_null     = local.now != null
    coalesce_known   = coalesce(local.id, "fallback")
    list_with_id     = length([local.id, local.uuid, "x"])
    map_keys         = keys({ a = local.id, b = "b" })
    for_over_known   = [for k in ["a", "b"] : "${k}-${local.id}"]
    cond_unknown     = local.id == "x" ? "yes" : "no"
    tuple_unknown    = [local.id][0]
    unknown_in_tmpl  = "%{if local.id == "x"}yes%{endif}"
    concat_unknown   = concat([local.id], ["b"])
    merged_unknown   = merge({ a = local.id }, { b = "b" })
    unknown_splat    = [terraform_data.source][*].id
    output_attr      = terraform_data.source.output
    tostring_unknown = tostring(local.id)
    jsonencode_mixed = jsonencode([local.id])
  }
}

output "id_not_null" {
  value = local.id != null
}

output "uuid_length" {
  value = length(local.uuid)
}

output "keys_known" {
  value = keys({ a = local.id, b = "b" })
}

output "unknown_list" {
  value = [local.id, "fixed", local.now]
}
