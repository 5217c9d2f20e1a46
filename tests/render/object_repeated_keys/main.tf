# An object constructor that repeats a key: HCL accepts it and the last item wins, for quoted
# and identifier keys, in locals, outputs and resource arguments, nested and three times.
locals {
  mime = {
    "3gpp" = "audio/3gpp"
    "mp4"  = "video/mp4"
    "3gpp" = "video/3gpp"
  }
  nested = { a = { x = 1, x = 2 }, a = { y = 3 } }
  thrice = {
    k = 1
    k = 2
    k = 3
  }
  mixed = { "q" = "quoted", q = "bare" }
}

resource "terraform_data" "x" {
  input = { name = "first", name = "second" }
}

output "mime" { value = local.mime }
output "nested" { value = local.nested }
output "thrice" { value = local.thrice }
output "mixed" { value = local.mixed }
output "after_the_repeats" { value = cidrsubnet("10.0.0.0/16", 8, 2) }
