locals {
  network = {
    cidrhost_first     = cidrhost("10.12.112.0/20", 16)
    cidrhost_last      = cidrhost("10.12.112.0/20", 268)
    cidrhost_negative  = cidrhost("10.12.112.0/20", -1)
    cidrhost_v6        = cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)
    cidrhost_zero      = cidrhost("192.168.1.0/24", 0)
    cidrnetmask_20     = cidrnetmask("172.16.0.0/12")
    cidrnetmask_32     = cidrnetmask("10.0.0.1/32")
    cidrnetmask_0      = cidrnetmask("0.0.0.0/0")
    cidrsubnet_basic   = cidrsubnet("172.16.0.0/12", 4, 2)
    cidrsubnet_big     = cidrsubnet("10.1.2.0/24", 4, 15)
    cidrsubnet_zero    = cidrsubnet("10.0.0.0/8", 0, 0)
    cidrsubnet_v6      = cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)
    cidrsubnet_unalign = cidrsubnet("10.1.2.3/24", 2, 1)
    cidrsubnets_basic  = cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)
    cidrsubnets_v6     = cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)
    cidrsubnets_none   = cidrsubnets("10.0.0.0/8")
    az_subnets         = [for i in range(3) : cidrsubnet("10.20.0.0/16", 8, i)]
  }

  hash = {
    md5_basic      = md5("hello world")
    md5_empty      = md5("")
    sha1_basic     = sha1("hello world")
    sha256_basic   = sha256("hello world")
    sha256_unicode = sha256("héllo ☃")
    sha512_basic   = sha512("hello world")
    base64sha256_b = base64sha256("hello world")
    base64sha256_e = base64sha256("")
    md5_json       = md5(jsonencode({ b = 2, a = 1 }))
  }
}

resource "terraform_data" "network" {
  input = local.network
}

resource "terraform_data" "hash" {
  input = local.hash
}

output "network" {
  value = local.network
}

output "hash" {
  value = local.hash
}
