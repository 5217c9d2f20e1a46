locals {
  numeric = {
    abs_neg      = abs(-12.5)
    abs_zero     = abs(0)
    abs_pos      = abs(3)
    ceil_frac    = ceil(1.2)
    ceil_neg     = ceil(-1.2)
    ceil_int     = ceil(5)
    floor_frac   = floor(1.8)
    floor_neg    = floor(-1.2)
    log_exact    = log(16, 2)
    log_ten      = log(1000, 10)
    log_frac     = log(10, 3)
    max_list     = max(5, 12, 9)
    max_expand   = max([3, -1, 2.5]...)
    max_single   = max(-4)
    min_list     = min(5, 12, 9)
    min_float    = min(0.5, -0.25)
    parseint_dec = parseint("100", 10)
    parseint_hex = parseint("FF", 16)
    parseint_bin = parseint("-1011", 2)
    parseint_b36 = parseint("zz", 36)
    parseint_oct = parseint("777", 8)
    pow_int      = pow(2, 10)
    pow_zero     = pow(5, 0)
    pow_frac     = pow(4, 0.5)
    pow_neg      = pow(2, -2)
    signum_neg   = signum(-9)
    signum_zero  = signum(0)
    signum_pos   = signum(42)
    sum_ints     = sum([1, 2, 3])
    sum_floats   = sum([0.1, 0.2, 0.3])
    sum_single   = sum([-7])
    sum_strings  = sum(["1", "2"])
    sum_set      = sum(toset([1, 2, 2]))
  }
}

resource "terraform_data" "numeric" {
  input = local.numeric
}

output "numeric" {
  value = local.numeric
}
