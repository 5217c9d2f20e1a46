locals {
  cidr = {
    subnet_zeros  = cidrsubnet("010.255.255.255/08", 0, 0)
    subnet_more   = cidrsubnet("010.001.000.000/016", 8, 3)
    host_zeros    = cidrhost("192.168.001.000/24", 5)
    netmask_zeros = cidrnetmask("172.016.000.000/012")
    subnets_zeros = cidrsubnets("010.000.000.000/8", 8, 8)
    too_big       = can(cidrsubnet("256.0.0.0/8", 0, 0))
    long_octet    = can(cidrsubnet("0010.0.0.0/8", 0, 0))
    signed_prefix = can(cidrsubnet("10.0.0.0/+8", 0, 0))
  }
}

output "cidr" {
  value = local.cidr
}
