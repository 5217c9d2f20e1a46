locals {
  ts = "2018-03-04T05:06:07Z"

  formatted = {
    rfc        = formatdate("YYYY-MM-DD'T'hh:mm:ssZ", local.ts)
    long       = formatdate("EEEE, DD MMMM YYYY", local.ts)
    short      = formatdate("EEE, D MMM YY", local.ts)
    twelve     = formatdate("H:mm aa / HH AA", "2018-03-04T17:06:07Z")
    midnight   = formatdate("H h HH hh AA", "2018-03-04T00:00:00Z")
    noon       = formatdate("H AA", "2018-03-04T12:30:00Z")
    offset     = formatdate("hh:mm Z ZZZ ZZZZ ZZZZZ", "2018-03-04T05:06:07-08:00")
    half_hour  = formatdate("ZZZZZ", "2018-03-04T05:06:07+05:30")
    utc_zones  = formatdate("Z ZZZ ZZZZ ZZZZZ", local.ts)
    literal    = formatdate("'Day' D 'of' MMMM, h 'o''clock'", local.ts)
    quote      = formatdate("''", local.ts)
    punct      = formatdate("YYYY/M/D - m:s", "2018-03-04T05:06:07.999Z")
    leap       = formatdate("EEEE DD MMM", "2024-02-29T10:00:00Z")
    old        = formatdate("EEE YYYY", "1969-12-31T23:59:59Z")
    bad_verb   = can(formatdate("Q", local.ts))
    bad_year   = can(formatdate("YYY", local.ts))
    bad_time   = can(formatdate("YYYY", "2018-03-04"))
    feb_30     = can(formatdate("YYYY", "2018-02-30T00:00:00Z"))
    core       = core::formatdate("YY", local.ts)
  }

  added = {
    minutes   = timeadd(local.ts, "10m")
    negative  = timeadd(local.ts, "-1h30m")
    fraction  = timeadd(local.ts, "1.5h")
    mixed     = timeadd(local.ts, "1h2m3s4ms5us6ns")
    micro     = timeadd(local.ts, "1500ms")
    offset    = timeadd("2017-11-22T00:00:00+05:30", "-1h")
    zero_off  = timeadd("2017-11-22T23:30:00+00:00", "1h")
    year_wrap = timeadd("2017-12-31T23:59:59Z", "1s")
    frac_in   = timeadd("2017-11-22T00:00:00.75Z", "0.5s")
    zero      = timeadd(local.ts, "0")
    plus      = timeadd(local.ts, "+24h")
    bad_unit  = can(timeadd(local.ts, "1d"))
    no_unit   = can(timeadd(local.ts, "10"))
    bad_ts    = can(timeadd("yesterday", "1h"))
  }

  compared = {
    equal_zones = timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00+01:00")
    before      = timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:01Z")
    after       = timecmp("2018-01-01T00:00:00Z", "2017-12-31T23:59:59-01:00")
    nanos       = timecmp("2017-11-22T00:00:00.5Z", "2017-11-22T00:00:00.25Z")
    bad         = can(timecmp(local.ts, "x"))
    unknown     = timecmp(timestamp(), local.ts)
  }
}

resource "terraform_data" "time" {
  input = local.added
}

output "formatted" {
  value = local.formatted
}

output "added" {
  value = local.added
}

output "compared" {
  value = local.compared
}
