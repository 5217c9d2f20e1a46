# Every invalid index of a run, each with Terraform's detail: the index just past the end of a
# list or tuple is explained, one further is not; negative and fractional indexes; missing
# keys of objects and maps; a missing attribute.
locals {
  t = ["a", "b"]
  l = tolist(["a", "b"])
}
output "t2" { value = local.t[2] }
output "t3" { value = local.t[3] }
output "tneg" { value = local.t[-1] }
output "l2" { value = local.l[2] }
output "l3" { value = local.l[3] }
output "lneg" { value = local.l[-1] }
output "lit2" { value = ["a", "b"][2] }
output "lit3" { value = ["a", "b"][3] }
output "tfrac" { value = local.t[1.5] }
output "obj_missing" { value = { x = 1 }["y"] }
output "map_missing" { value = tomap({ x = 1 })["y"] }
output "obj_attr_missing" { value = { x = 1 }.y }
