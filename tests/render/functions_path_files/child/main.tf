output "result" {
  value = {
    module_files = fileset(path.module, "*.tf")
    root_hash    = filemd5("data/a.txt")
    base         = basename(path.module)
  }
}
