locals {
  objects = [
    { name = "a", tags = { k = "1" }, ports = [80, 443] },
    { name = "b", tags = { k = "2" }, ports = [22] },
  ]
  single   = { name = "solo", ports = [1] }
  nothing  = null
  list_ofl = [[1, 2], [3]]
}

resource "terraform_data" "item" {
  count = 3
  input = { id = "item-${count.index}", n = count.index * 2 }
}

resource "terraform_data" "keyed" {
  for_each = { x = 1, y = 2 }
  input    = each.value
}

resource "terraform_data" "splat" {
  input = {
    names        = local.objects[*].name
    tags         = local.objects[*].tags.k
    ports        = local.objects[*].ports
    legacy       = local.objects.*.name
    single       = local.single[*].name
    null_splat   = local.nothing[*]
    first_port   = local.objects[*].ports[0]
    lol          = local.list_ofl[*][0]
    inputs       = terraform_data.item[*].input.id
    ns           = terraform_data.item[*].input.n
    keyed_values = values(terraform_data.keyed)[*].input
    full_index   = [for o in local.objects : o.ports[*]]
  }
}

output "ids" {
  value = terraform_data.item[*].input.id
}

output "single" {
  value = local.single[*]
}
