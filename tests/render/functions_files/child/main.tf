output "rendered" {
  value = {
    module_path = path.module
    content     = file("${path.module}/files/child.txt")
    exists      = fileexists("${path.module}/files/child.txt")
    template    = templatefile("${path.module}/files/child.tftpl", { name = path.module })
  }
}
