# Every element of a tuple constructor and every part of a template is evaluated: each failure
# is reported, not only the first. Failures that try() and can() catch are not.
locals {
  zones = ["a", "b"]
}
resource "terraform_data" "x" {
  input = [local.zones[2], local.zones[3]]
}
output "o" {
  value = "${local.zones[4]}-${local.zones[5]}"
}
output "caught" {
  value = [try([local.zones[6], local.zones[7]], "fallback"), can("${local.zones[8]}${local.zones[9]}")]
}
