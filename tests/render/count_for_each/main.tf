variable "zones" {
  type    = list(string)
  default = ["a", "b", "c"]
}

variable "buckets" {
  type = map(object({
    versioned = bool
    tier      = string
  }))
  default = {
    logs                 = { versioned = false, tier = "cold" }
    trades               = { versioned = true, tier = "hot" }
    "odd key/with.chars" = { versioned = false, tier = "warm" }
  }
}

resource "terraform_data" "zone" {
  count = length(var.zones)
  input = {
    zone  = var.zones[count.index]
    index = count.index
    first = count.index == 0
  }
}

resource "terraform_data" "none" {
  count = 0
  input = "never"
}

resource "terraform_data" "conditional" {
  count = var.zones[0] == "a" ? 1 : 0
  input = "created"
}

resource "terraform_data" "bucket" {
  for_each = var.buckets
  input = {
    name      = each.key
    versioned = each.value.versioned
    tier      = each.value.tier
  }
}

resource "terraform_data" "from_set" {
  for_each = toset(["x", "y", "x"])
  input    = "${each.key}=${each.value}"
}

resource "terraform_data" "empty_each" {
  for_each = {}
  input    = each.value
}

resource "terraform_data" "chained" {
  for_each = terraform_data.bucket
  input    = "${each.key}:${each.value.input.tier}"
}

resource "terraform_data" "from_count" {
  count = length(terraform_data.zone)
  input = terraform_data.zone[count.index].input.zone
}

output "zone_inputs" {
  value = terraform_data.zone[*].input.zone
}

output "bucket_tiers" {
  value = { for k, b in terraform_data.bucket : k => b.input.tier }
}

output "conditional" {
  value = one(terraform_data.conditional[*].input)
}

output "none" {
  value = terraform_data.none
}

output "chained" {
  value = [for c in terraform_data.chained : c.input]
}

output "set_keys" {
  value = keys(terraform_data.from_set)
}
