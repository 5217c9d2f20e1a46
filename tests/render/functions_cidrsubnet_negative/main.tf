# cidrsubnet with negative newbits shortens the prefix: the number is ORed in at the shorter
# prefix and the base keeps its bits beyond it.
output "shorter_netnum_1" { value = cidrsubnet("10.1.0.0/24", -8, 1) }
output "shorter_netnum_0" { value = cidrsubnet("10.1.0.0/24", -8, 0) }
output "shorter_netnum_300" { value = cidrsubnet("10.1.0.0/24", -8, 300) }
output "base_bits_kept" { value = cidrsubnet("10.1.2.0/24", -1, 0) }
output "to_zero_bits" { value = cidrsubnet("10.1.2.0/24", -24, 0) }
output "ipv6" { value = cidrsubnet("fd00:1:2::/64", -16, 3) }
output "zero_newbits" { value = cidrsubnet("10.1.0.0/24", 0, 0) }
