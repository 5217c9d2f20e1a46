variable "env" {
  type    = string
  default = "prod"
}

locals {
  arithmetic = {
    add        = 1 + 2
    sub        = 10 - 25
    mul        = 6 * 7
    div        = 7 / 2
    div_exact  = 8 / 4
    mod        = 17 % 5
    neg_mod    = -17 % 5
    float_mod  = 5.5 % 2
    precedence = 2 + 3 * 4 - 6 / 2
    parens     = (2 + 3) * 4
    unary      = -(3 - 5)
    third      = 1 / 3
    tenth      = 0.1 + 0.2
    big        = 9007199254740993
    big_mul    = 12345678901 * 1000000
    huge       = 1e21
    tiny       = 1e-7
    exp_lit    = 2.5e3
    neg_zero   = -0
    float_int  = 3.0
  }
  comparison = {
    eq        = 1 == 1.0
    ne        = "a" != "b"
    lt        = 1 < 2
    le        = 2 <= 2
    gt        = -1 > -2
    ge        = 3 >= 4
    list_eq   = [1, 2] == [1, 2]
    obj_eq    = { a = 1 } == { a = 1 }
    str_num   = "1" == 1
    null_eq   = null == null
    mixed_neq = tolist(["a"]) == ["a"]
  }
  logic = {
    and   = true && false
    or    = true || false
    not   = !true
    combo = !(1 > 2) && (true || false)
  }
  conditional = {
    simple    = var.env == "prod" ? "big" : "small"
    nested    = var.env == "dev" ? 1 : var.env == "prod" ? 3 : 2
    number    = var.env == "prod" ? 10 : 0.5
    to_string = var.env == "prod" ? 5 : "five"
    null_arm  = var.env == "prod" ? null : "x"
    list_arm  = var.env == "prod" ? ["a", "b"] : []
  }
  number_strings = {
    interp_int   = "${42}"
    interp_float = "${1.5}"
    interp_div   = "${7 / 2}"
    interp_third = "${1 / 3}"
    interp_big   = "${1e21}"
    interp_neg   = "${- 0.25}"
    tostr        = tostring(100000000)
    from_str     = "12" + 3
    str_mul      = "2.5" * "2"
  }
}

resource "terraform_data" "arithmetic" {
  input = local.arithmetic
}

resource "terraform_data" "comparison" {
  input = local.comparison
}

resource "terraform_data" "logic" {
  input = local.logic
}

resource "terraform_data" "conditional" {
  input = local.conditional
}

resource "terraform_data" "number_strings" {
  input = local.number_strings
}

output "arithmetic" {
  value = local.arithmetic
}

output "number_strings" {
  value = local.number_strings
}

output "conditional" {
  value = local.conditional
}
