variable "context" {
  type = any
  default = {
    enabled             = true
    namespace           = null
    environment         = null
    stage               = null
    name                = null
    delimiter           = null
    attributes          = []
    tags                = {}
    label_order         = []
    regex_replace_chars = null
    id_length_limit     = null
    label_value_case    = null
    descriptor_formats  = {}
  }
}
variable "enabled" {
  type    = bool
  default = null
}
variable "namespace" {
  type    = string
  default = null
}
variable "environment" {
  type    = string
  default = null
}
variable "stage" {
  type    = string
  default = null
}
variable "name" {
  type    = string
  default = null
}
variable "attributes" {
  type    = list(string)
  default = []
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "label_order" {
  type    = list(string)
  default = null
}
variable "id_length_limit" {
  type    = number
  default = null
  validation {
    condition     = var.id_length_limit == null ? true : var.id_length_limit >= 6 || var.id_length_limit == 0
    error_message = "The id_length_limit must be >= 6 if supplied (not null), or 0 for unlimited length."
  }
}
variable "label_value_case" {
  type    = string
  default = null
  validation {
    condition     = var.label_value_case == null ? true : contains(["lower", "title", "upper", "none"], var.label_value_case)
    error_message = "Allowed values: `lower`, `title`, `upper`, `none`."
  }
}
variable "descriptor_formats" {
  type    = any
  default = {}
}

locals {
  defaults = {
    label_order         = ["namespace", "environment", "stage", "name", "attributes"]
    regex_replace_chars = "/[^-a-zA-Z0-9]/"
    delimiter           = "-"
    replacement         = ""
    id_length_limit     = 0
    id_hash_length      = 5
    label_value_case    = "lower"
  }
  input = {
    enabled             = var.enabled == null ? var.context.enabled : var.enabled
    namespace           = var.namespace == null ? var.context.namespace : var.namespace
    environment         = var.environment == null ? var.context.environment : var.environment
    stage               = var.stage == null ? var.context.stage : var.stage
    name                = var.name == null ? var.context.name : var.name
    delimiter           = var.context.delimiter
    attributes          = compact(distinct(concat(coalesce(var.context.attributes, []), coalesce(var.attributes, []))))
    tags                = merge(var.context.tags, var.tags)
    label_order         = var.label_order == null ? var.context.label_order : var.label_order
    regex_replace_chars = var.context.regex_replace_chars
    id_length_limit     = var.id_length_limit == null ? var.context.id_length_limit : var.id_length_limit
    label_value_case    = var.label_value_case == null ? var.context.label_value_case : var.label_value_case
    descriptor_formats  = merge(lookup(var.context, "descriptor_formats", {}), var.descriptor_formats)
  }
  enabled             = local.input.enabled
  regex_replace_chars = coalesce(local.input.regex_replace_chars, local.defaults.regex_replace_chars)
  delimiter           = local.input.delimiter == null ? local.defaults.delimiter : local.input.delimiter
  label_order         = local.input.label_order == null || length(coalesce(local.input.label_order, [])) == 0 ? local.defaults.label_order : local.input.label_order
  id_length_limit     = local.input.id_length_limit == null ? local.defaults.id_length_limit : local.input.id_length_limit
  label_value_case    = local.input.label_value_case == null ? local.defaults.label_value_case : local.input.label_value_case

  string_label_names = ["namespace", "environment", "stage", "name"]
  normalized_labels = { for k in local.string_label_names : k =>
    local.input[k] == null ? "" : replace(local.input[k], local.regex_replace_chars, local.defaults.replacement)
  }
  formatted_labels = { for k in local.string_label_names : k => local.label_value_case == "none" ? local.normalized_labels[k] :
    local.label_value_case == "title" ? title(lower(local.normalized_labels[k])) :
    local.label_value_case == "upper" ? upper(local.normalized_labels[k]) : lower(local.normalized_labels[k])
  }
  attributes = compact(distinct([for v in local.input.attributes : lower(replace(v, local.regex_replace_chars, local.defaults.replacement))]))

  id_context = merge(local.formatted_labels, { attributes = join(local.delimiter, local.attributes) })
  labels     = [for l in local.label_order : local.id_context[l] if length(local.id_context[l]) > 0]
  id_full    = join(local.delimiter, local.labels)

  id_hash_case        = local.label_value_case == "title" ? "lower" : local.label_value_case
  id_hash             = md5(local.id_full)
  id_truncated_length = local.id_length_limit - local.defaults.id_hash_length - length(local.delimiter)
  id_truncated        = local.id_length_limit <= 0 ? local.id_full : trimsuffix(substr(local.id_full, 0, max(0, local.id_truncated_length)), local.delimiter)
  id_short            = substr(format("%s%s%s", local.id_truncated, local.delimiter, local.id_hash), 0, max(0, local.id_length_limit))
  id                  = local.id_length_limit != 0 && length(local.id_full) > local.id_length_limit ? local.id_short : local.id_full

  generated_tags = { for l in keys(local.id_context) : title(l) => local.id_context[l] if length(local.id_context[l]) > 0 }
  tags           = merge(local.generated_tags, local.input.tags)
  tags_as_list_of_maps = flatten([
    for key in keys(local.tags) : merge({ key = key, value = local.tags[key] }, { propagate_at_launch = "true" })
  ])
  descriptors = { for k, v in local.input.descriptor_formats : k => format(v.format, [for label in v.labels : local.id_context[label]]...) }

  output_context = {
    enabled             = local.enabled
    namespace           = local.input.namespace
    environment         = local.input.environment
    stage               = local.input.stage
    name                = local.input.name
    delimiter           = local.input.delimiter
    attributes          = local.attributes
    tags                = local.tags
    label_order         = local.input.label_order
    regex_replace_chars = local.input.regex_replace_chars
    id_length_limit     = local.input.id_length_limit
    label_value_case    = local.input.label_value_case
    descriptor_formats  = local.input.descriptor_formats
  }
}

output "id" { value = local.enabled ? local.id : "" }
output "id_full" { value = local.enabled ? local.id_full : "" }
output "tags" { value = local.enabled ? local.tags : {} }
output "tags_as_list_of_maps" { value = local.tags_as_list_of_maps }
output "descriptors" { value = local.descriptors }
output "context" { value = local.output_context }
output "normalized_context" { value = merge(local.output_context, { label_order = local.label_order, delimiter = local.delimiter }) }
