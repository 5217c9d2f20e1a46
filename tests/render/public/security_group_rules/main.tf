# Named security group rules as terraform-aws-modules/terraform-aws-security-group expands them
# (see ../README.md): a map of rule name => [from, to, protocol, description], lookup with a
# list default, element() with negative-free indexes, rules given by name or with cidr lists,
# count over rule lists, auto groups adding their rules with distinct(concat(...)).
variable "ingress_rules" {
  type    = list(string)
  default = ["https-443-tcp", "ssh-tcp", "fix-9876-tcp"]
}
variable "ingress_with_cidr_blocks" {
  type = list(map(string))
  default = [
    { rule = "postgresql-tcp", cidr_blocks = "10.0.0.0/16,10.1.0.0/16" },
    { from_port = 8080, to_port = 8090, protocol = "tcp", description = "custom", cidr_blocks = "10.2.0.0/24" },
  ]
}
variable "ingress_cidr_blocks" {
  type    = list(string)
  default = ["10.10.0.0/16"]
}
variable "auto_groups" {
  type = map(map(list(string)))
  default = {
    ssh = { ingress_rules = ["ssh-tcp"], egress_rules = ["all-all"] }
    web = { ingress_rules = ["http-80-tcp", "https-443-tcp"], egress_rules = ["all-all"] }
  }
}

locals {
  rules = {
    "all-all"        = [-1, -1, "-1", "All protocols"]
    "http-80-tcp"    = [80, 80, "tcp", "HTTP"]
    "https-443-tcp"  = [443, 443, "tcp", "HTTPS"]
    "ssh-tcp"        = [22, 22, "tcp", "SSH"]
    "postgresql-tcp" = [5432, 5432, "tcp", "PostgreSQL"]
    "_"              = ["", "", ""]
  }
  auto_ingress = distinct(concat(var.auto_groups["web"]["ingress_rules"], lookup(var.auto_groups["ssh"], "ingress_rules", [])))
  all_ingress  = distinct(concat(var.ingress_rules, local.auto_ingress))
}

resource "terraform_data" "ingress_rules" {
  count = length(local.all_ingress)
  input = {
    cidr_blocks = var.ingress_cidr_blocks
    description = element(lookup(local.rules, local.all_ingress[count.index], ["_", "_", "_", "unknown rule"]), 3)
    from_port   = element(lookup(local.rules, local.all_ingress[count.index], [-1, -1, "-1", "x"]), 0)
    to_port     = element(lookup(local.rules, local.all_ingress[count.index], [-1, -1, "-1", "x"]), 1)
    protocol    = element(lookup(local.rules, local.all_ingress[count.index], [-1, -1, "-1", "x"]), 2)
  }
}

resource "terraform_data" "ingress_with_cidr_blocks" {
  count = length(var.ingress_with_cidr_blocks)
  input = {
    cidr_blocks = split(",", lookup(var.ingress_with_cidr_blocks[count.index], "cidr_blocks", join(",", var.ingress_cidr_blocks)))
    description = lookup(var.ingress_with_cidr_blocks[count.index], "description", "Ingress Rule")
    from_port   = lookup(var.ingress_with_cidr_blocks[count.index], "from_port", local.rules[lookup(var.ingress_with_cidr_blocks[count.index], "rule", "_")][0])
    to_port     = lookup(var.ingress_with_cidr_blocks[count.index], "to_port", local.rules[lookup(var.ingress_with_cidr_blocks[count.index], "rule", "_")][1])
    protocol    = lookup(var.ingress_with_cidr_blocks[count.index], "protocol", local.rules[lookup(var.ingress_with_cidr_blocks[count.index], "rule", "_")][2])
  }
}

output "auto_ingress" { value = local.auto_ingress }
output "rule_lookup_missing" { value = lookup(local.rules, "nope", null) }
output "rule_ports" { value = { for k, v in local.rules : k => slice(v, 0, 2) if k != "_" } }
