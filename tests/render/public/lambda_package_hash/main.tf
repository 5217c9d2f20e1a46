# Package and function settings as terraform-aws-modules/terraform-aws-lambda derives them (see
# ../README.md): a source path given as a string or a list of objects, hashes of the files
# (filesha256, filebase64sha256) combined with sha256(join()), a JSON build plan, environment
# variables that are omitted when empty (dynamic-block shape as a conditional list), the
# function name in an ARN, and a qualified ARN from a version.
variable "function_name" {
  type    = string
  default = "order-router"
}
variable "source_path" {
  type    = any
  default = ["src", { path = "src", patterns = ["!.*\\.txt"] }]
}
variable "environment_variables" {
  type    = map(string)
  default = { STAGE = "prod", TABLE = "orders" }
}
variable "layers" {
  type    = list(string)
  default = null
}
variable "runtime" {
  type    = string
  default = "python3.12"
}

locals {
  source_paths = [for s in flatten([var.source_path]) : try(tostring(s), s.path)]
  patterns     = flatten([for s in flatten([var.source_path]) : try(s.patterns, [])])
  files        = sort(distinct(flatten([for p in local.source_paths : [for f in fileset("${path.module}/${p}", "**") : "${p}/${f}"]])))
  kept_files   = [for f in local.files : f if !anytrue([for pat in local.patterns : startswith(pat, "!") && can(regex(substr(pat, 1, -1), f))])]
  file_hashes  = { for f in local.kept_files : f => filesha256("${path.module}/${f}") }
  content_hash = sha256(join("", [for f in local.kept_files : "${f}:${local.file_hashes[f]}"]))
  build_plan = jsonencode({
    filename = "builds/${local.content_hash}.zip"
    runtime  = var.runtime
    sources  = local.kept_files
    hash     = local.content_hash
  })
  python_version = regex("^python(\\d+\\.\\d+)$", var.runtime)[0]
}

resource "terraform_data" "function" {
  input = {
    function_name    = var.function_name
    source_code_hash = filebase64sha256("${path.module}/src/index.py")
    layers           = var.layers
    environment      = length(keys(var.environment_variables)) == 0 ? [] : [{ variables = var.environment_variables }]
    handler          = "index.handler"
    python           = local.python_version
  }
}

locals {
  arn           = "arn:aws:lambda:eu-west-1:111122223333:function:${var.function_name}"
  version       = "7"
  qualified_arn = join(":", [local.arn, local.version])
  name_from_arn = element(split(":", local.qualified_arn), 6)
}

output "build_plan" { value = local.build_plan }
output "kept_files" { value = local.kept_files }
output "arns" { value = [local.qualified_arn, local.name_from_arn, trimsuffix(local.qualified_arn, ":${local.version}")] }
