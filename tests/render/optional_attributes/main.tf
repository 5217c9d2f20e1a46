variable "service" {
  type = object({
    name     = string
    replicas = optional(number, 1)
    labels   = optional(map(string), {})
    owner    = optional(string)
    network = optional(object({
      cidr   = optional(string, "10.0.0.0/16")
      public = optional(bool, false)
      subnets = optional(list(object({
        name = string
        size = optional(number, 24)
        tags = optional(set(string), ["default"])
      })), [])
    }), {})
    storage = optional(object({
      size = optional(number, 20)
      kind = optional(string, "gp3")
    }))
  })
  default = {
    name = "svc"
    network = {
      subnets = [
        { name = "a" },
        { name = "b", size = 28, tags = ["x", "y"] },
      ]
    }
  }
}

variable "minimal" {
  type = object({
    name = string
    network = optional(object({
      cidr   = optional(string, "172.16.0.0/12")
      public = optional(bool, true)
    }), {})
  })
  default = {
    name = "min"
  }
}

variable "list_of_optionals" {
  type = list(object({
    key   = string
    value = optional(string, "unset")
  }))
  default = [{ key = "a" }, { key = "b", value = "set" }]
}

variable "map_of_optionals" {
  type = map(object({
    enabled = optional(bool, true)
    weight  = optional(number)
  }))
  default = {
    first  = {}
    second = { enabled = false, weight = 3 }
  }
}

variable "explicit_null" {
  type = object({
    value = optional(string, "fallback")
  })
  default = {
    value = null
  }
}

resource "terraform_data" "service" {
  input = var.service
}

resource "terraform_data" "minimal" {
  input = var.minimal
}

resource "terraform_data" "collections" {
  input = {
    list          = var.list_of_optionals
    map           = var.map_of_optionals
    explicit_null = var.explicit_null
  }
}

module "child" {
  source = "./child"
  config = {
    name = "from-root"
    deep = { level2 = {} }
  }
}

output "service" {
  value = var.service
}

output "child_config" {
  value = module.child.config
}
