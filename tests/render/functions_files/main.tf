locals {
  users = ["ann", "bob"]

  files = {
    file_text        = file("${path.module}/data/greeting.txt")
    file_json        = jsondecode(file("${path.module}/data/config.json"))
    file_exists_yes  = fileexists("${path.module}/data/greeting.txt")
    file_exists_no   = fileexists("${path.module}/data/missing.txt")
    file_exists_rel  = fileexists("data/config.json")
    templatefile_for = templatefile("${path.module}/templates/users.tftpl", { users = local.users, port = 8080 })
    templatefile_obj = templatefile("${path.module}/templates/config.tftpl", {
      config = { name = "svc", replicas = 2 }
      flag   = true
    })
    templatefile_nested_vars = templatefile("templates/users.tftpl", { users = [], port = 1 })
    path_module              = path.module
    path_root                = path.root
  }
}

resource "terraform_data" "files" {
  input = local.files
}

module "child" {
  source = "./child"
}

output "files" {
  value = local.files
}

output "child" {
  value = module.child.rendered
}
