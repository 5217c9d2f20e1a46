locals {
  name = "world"

  heredoc = <<EOT
Hello ${local.name}
  indented stays
	tab line
EOT

  indented = <<-EOT
      four spaces
        six spaces
      back to four
    EOT

  indented_blank = <<-EOT
    first

    after blank
  EOT

  indented_interp = <<-EOT
    key: ${local.name}
      nested: ${upper(local.name)}
  EOT

  escaped_heredoc = <<EOT
literal $${local.name} and %%{if true}
dollar $ alone and percent % alone
EOT

  escapes = {
    dollar_brace   = "$${not_interpolated}"
    percent_brace  = "%%{not_a_directive}"
    lone_dollar    = "cost: $5"
    lone_percent   = "100%"
    double_dollar  = "$$"
    quote          = "say \"hi\""
    backslash      = "C:\\path\\to"
    newline        = "a\nb"
    tab            = "a\tb"
    carriage       = "a\r\nb"
    unicode_escape = "\u00e9\U0001F600"
    mixed          = "$${a} ${local.name} %%{b}"
    json_like      = "{\"k\": \"v\"}"
  }

  empty_heredoc = <<EOT
EOT
}

resource "terraform_data" "heredocs" {
  input = {
    heredoc         = local.heredoc
    indented        = local.indented
    indented_blank  = local.indented_blank
    indented_interp = local.indented_interp
    escaped_heredoc = local.escaped_heredoc
    empty_heredoc   = local.empty_heredoc
  }
}

resource "terraform_data" "escapes" {
  input = local.escapes
}

output "escapes" {
  value = local.escapes
}

output "heredoc" {
  value = local.heredoc
}
