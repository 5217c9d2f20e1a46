variable "labels" {
  type = map(string)
  default = {
    Name = "app"
    Env  = "prod"
  }
}

locals {
  # Line breaks after ?, : and + inside for expressions, as HCL allows.
  flags = { for k in ["a", "b"] : k => k == "a" ?
    1 :
    2
  }

  joined = { for k, v in var.labels : lower(k) => v != "" ?
    "${k}=${v}" : null
  }

  sums = [for n in [1, 2, 3] : n +
    10
  ]

  keyed = { for n in [1, 2] : "k${n}" =>
    n *
    2
  }

  collection = { for k in concat(["x"],
    ["y"]) : k => length(
      k
  ) }

  filtered = { for k, v in var.labels : k => v if
    v != "prod"
  }

  commented = { for k in ["z"] : k => true ? # inline comment
    "yes" : "no"
  }

  nested = { for k in ["n"] : k => {
    inner = true
    other = k
  } }

  call = max(
    1,
    5
    , 3)

  interpolated = "value: ${true ?
  "a" : "b"}"
}

resource "terraform_data" "labels" {
  input = local.joined
}

output "all" {
  value = {
    flags        = local.flags
    joined       = local.joined
    sums         = local.sums
    keyed        = local.keyed
    collection   = local.collection
    filtered     = local.filtered
    commented    = local.commented
    nested       = local.nested
    call         = local.call
    interpolated = local.interpolated
  }
}
