locals {
  doc = {
    name    = "svc"
    ports   = [80, 443]
    enabled = true
    ratio   = 0.5
    nothing = null
    nested  = { "b" = "2", "a" = "<tag> & \"quote\"" }
  }

  encoding = {
    base64encode_basic   = base64encode("Hello World")
    base64encode_unicode = base64encode("héllo ☃")
    base64encode_empty   = base64encode("")
    base64decode_basic   = base64decode("SGVsbG8gV29ybGQ=")
    base64decode_unicode = base64decode(base64encode("ü✓"))
    textencodebase64     = textencodebase64("Hello World", "UTF-16LE")
    textencodebase64_u8  = textencodebase64("abc", "UTF-8")
    jsonencode_doc       = jsonencode(local.doc)
    jsonencode_string    = jsonencode("a<b>&c\u2028")
    jsonencode_number    = jsonencode(1.5e10)
    jsonencode_float     = jsonencode(0.1)
    jsonencode_null      = jsonencode(null)
    jsonencode_list      = jsonencode(tolist(["x", "y"]))
    jsonencode_set       = jsonencode(toset(["b", "a"]))
    jsondecode_object    = jsondecode("{\"hello\": \"world\", \"n\": [1, 2.5, null], \"t\": true}")
    jsondecode_scalar    = jsondecode("\"text\"")
    jsondecode_number    = jsondecode("12345678901234567890")
    jsondecode_nested    = jsondecode(jsonencode(local.doc))
    urlencode_basic      = urlencode("Hello World!")
    urlencode_special    = urlencode("a/b?c=d&e=f~g_h.i-j*k'(l)")
    urlencode_unicode    = urlencode("☃ ü")
    yamlencode_doc       = yamlencode(local.doc)
    yamlencode_list      = yamlencode(["a", 1, true, null, "multi\nline", "yes", "1.0", ""])
    yamlencode_empty     = yamlencode({})
    yamlencode_string    = yamlencode("plain")
    csvdecode_basic      = csvdecode("a,b,c\n1,2,3\n4,5,6")
    csvdecode_quoted     = csvdecode("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\nplain,\n")
    csvdecode_header     = csvdecode("only,header\n")
  }
}

resource "terraform_data" "encoding" {
  input = local.encoding
}

output "encoding" {
  value = local.encoding
}
