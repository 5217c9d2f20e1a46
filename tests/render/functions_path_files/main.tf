locals {
  hashes = {
    md5          = filemd5("data/a.txt")
    sha1         = filesha1("${path.module}/data/a.txt")
    sha256       = filesha256("data/nested/b.txt")
    sha512       = filesha512("data/nested/c.json")
    b64sha256    = filebase64sha256("data/a.txt")
    b64sha512    = filebase64sha512("data/nested/b.txt")
    b64          = filebase64("data/blob.bin")
    b64_text     = filebase64("data/a.txt")
    core_md5     = core::filemd5("data/a.txt")
    missing_hash = can(filemd5("data/none.txt"))
    missing_b64  = can(filebase64("data/none.txt"))
    dir_b64      = can(filebase64("data"))
  }

  sets = {
    all       = fileset(path.module, "data/**")
    txt       = fileset("data", "**/*.txt")
    top       = fileset("data", "*")
    alt       = fileset("data", "**/*.{json,bin}")
    one_char  = fileset("data/nested", "?.txt")
    class     = fileset("data/nested", "[a-c].*")
    none      = fileset("data", "*.none")
    no_dir    = fileset("missing", "*")
    dot       = fileset(".", "data/nested/*.json")
    bad       = can(fileset("data", "["))
  }

  paths = {
    base       = basename("/a/b/c.txt")
    base_slash = basename("a/b/")
    base_empty = basename("")
    base_root  = basename("/")
    base_rel   = basename("file")
    dir        = dirname("/a/b/c.txt")
    dir_rel    = dirname("a/b/")
    dir_empty  = dirname("")
    dir_root   = dirname("/")
    dir_dots   = dirname("a/../b/./c/d")
    dir_file   = dirname("file")
    abs_root   = abspath("/x/../y/")
    abs_clean  = abspath("/a//b/./c")
    abs_rel    = startswith(abspath("data"), "/")
    abs_base   = basename(abspath("data/a.txt"))
    expand_abs = pathexpand("/etc/hosts")
    expand_rel = pathexpand("x/~")
    expand_home = startswith(pathexpand("~/x"), "/")
    expand_user = can(pathexpand("~someone/x"))
  }
}

resource "terraform_data" "files" {
  input = local.hashes
}

module "child" {
  source = "./child"
}

output "hashes" {
  value = local.hashes
}

output "sets" {
  value = local.sets
}

output "paths" {
  value = local.paths
}

output "child" {
  value = module.child.result
}
