# A directory of static files and templates as hashicorp/terraform-template-dir renders it (see
# ../README.md): fileset, suffix tests with substr, regexall for file extensions, lookup of a
# content type with a default, templatefile, the file hash functions, tomap of digests, merge of
# two for expressions, a static file shadowed by a template of the same name.
variable "base_dir" {
  type    = string
  default = null
}
variable "template_vars" {
  type    = any
  default = { title = "Desk", pages = ["fx", "rates"], version = "1.2" }
}
variable "file_types" {
  type    = map(string)
  default = { ".html" = "text/html; charset=utf-8", ".css" = "text/css; charset=utf-8", ".txt" = "text/plain" }
}
variable "erase_existing_files" {
  type    = bool
  default = false
}

locals {
  base_dir       = coalesce(var.base_dir, "${path.module}/site")
  suffix         = ".tmpl"
  all_file_paths = fileset(local.base_dir, "**")
  static_file_paths = toset([
    for p in local.all_file_paths : p
    if length(p) < length(local.suffix) || substr(p, length(p) - length(local.suffix), length(local.suffix)) != local.suffix
  ])
  template_file_paths = {
    for p in local.all_file_paths :
    substr(p, 0, length(p) - length(local.suffix)) => p
    if length(p) >= length(local.suffix) && substr(p, length(p) - length(local.suffix), length(local.suffix)) == local.suffix
    && (var.erase_existing_files || !contains(local.static_file_paths, substr(p, 0, length(p) - length(local.suffix))))
  }
  template_file_contents = { for p, sp in local.template_file_paths : p => templatefile("${local.base_dir}/${sp}", var.template_vars) }
  output_file_paths      = setunion(keys(local.template_file_paths), local.static_file_paths)
  file_suffix_matches    = { for p in local.output_file_paths : p => regexall("\\.[^\\.]+\\z", p) }
  file_suffixes          = { for p, ms in local.file_suffix_matches : p => length(ms) > 0 ? ms[0] : "" }
  file_types             = { for p in local.output_file_paths : p => lookup(var.file_types, local.file_suffixes[p], "application/octet-stream") }
  files = merge(
    {
      for p in keys(local.template_file_paths) : p => {
        content_type = local.file_types[p]
        source_path  = tostring(null)
        content      = local.template_file_contents[p]
        digests = tomap({
          md5    = md5(local.template_file_contents[p])
          sha256 = sha256(local.template_file_contents[p])
          b64    = base64sha512(local.template_file_contents[p])
        })
      }
    },
    {
      for p in local.static_file_paths : p => {
        content_type = local.file_types[p]
        source_path  = "${local.base_dir}/${p}"
        content      = tostring(null)
        digests = tomap({
          md5    = filemd5("${local.base_dir}/${p}")
          sha256 = filesha256("${local.base_dir}/${p}")
          b64    = filebase64sha512("${local.base_dir}/${p}")
        })
      }
    },
  )
}

resource "terraform_data" "object" {
  for_each = local.files
  input = {
    key          = each.key
    content_type = each.value.content_type
    etag         = each.value.digests.md5
    has_source   = each.value.source_path != null
  }
}

output "files" { value = local.files }
output "suffixes" { value = local.file_suffixes }
output "templates" { value = local.template_file_paths }
