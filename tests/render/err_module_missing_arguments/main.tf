# Two calls of a module, each without either of its two required variables: Terraform
# reports every missing argument of every call (while loading the configuration, at init).
module "c" {
  source = "./child"
}

module "d" {
  source = "./child"
  z      = "optional one given"
}
