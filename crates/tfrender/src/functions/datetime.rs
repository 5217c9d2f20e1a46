//! Date and time functions on RFC 3339 timestamps: formatdate, timeadd, timecmp.
use std::path::Path;

use super::{as_str, Args, FResult};
use crate::value::Value;

/// A parsed timestamp: seconds since the epoch (UTC), nanoseconds and the UTC offset in
/// seconds it was written with (`zulu` when written `Z`).
#[derive(Clone, Copy)]
struct Stamp {
    secs: i64,
    nanos: i64,
    offset: i64,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const INVALID: &str = "not a valid RFC3339 timestamp";

/// Terraform's parse of an RFC 3339 timestamp, with its error wording.
fn parse(s: &str) -> Result<Stamp, String> {
    let mut rest = s;
    let num = |rest: &mut &str, n: usize, what: &str| -> Result<i64, String> {
        let ok = rest.len() >= n && rest.as_bytes()[..n].iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(if rest.is_empty() {
                format!("{INVALID}: end of string before {what}")
            } else {
                format!("{INVALID}: cannot use {rest:?} as {what}")
            });
        }
        let v = rest[..n].parse::<i64>().unwrap_or(0);
        *rest = &rest[n..];
        Ok(v)
    };
    let lit = |rest: &mut &str, c: &str| -> Result<(), String> {
        if let Some(r) = rest.strip_prefix(c) {
            *rest = r;
            return Ok(());
        }
        Err(match (c, rest.is_empty()) {
            ("T", _) => format!("{INVALID}: missing required time introducer 'T'"),
            (_, true) => format!("{INVALID}: end of string where {c:?} is expected"),
            (_, false) => format!("{INVALID}: found {rest:?} where {c:?} is expected"),
        })
    };
    let year = num(&mut rest, 4, "year")?;
    lit(&mut rest, "-")?;
    let month_at = rest;
    let month = num(&mut rest, 2, "month")?;
    if !(1..=12).contains(&month) {
        return Err(format!("{INVALID}: cannot use {month_at:?} as month"));
    }
    lit(&mut rest, "-")?;
    let day_at = rest;
    let day = num(&mut rest, 2, "day of month")?;
    if !(1..=31).contains(&day) {
        return Err(format!("{INVALID}: cannot use {day_at:?} as day of month"));
    }
    lit(&mut rest, "T")?;
    let hour_at = rest;
    let hour = num(&mut rest, 2, "hour")?;
    if hour > 23 {
        return Err(format!("{INVALID}: cannot use {hour_at:?} as hour"));
    }
    lit(&mut rest, ":")?;
    let minute_at = rest;
    let minute = num(&mut rest, 2, "minute")?;
    if minute > 59 {
        return Err(format!("{INVALID}: cannot use {minute_at:?} as minute"));
    }
    lit(&mut rest, ":")?;
    let second_at = rest;
    let second = num(&mut rest, 2, "second")?;
    if second > 59 {
        return Err(format!("{INVALID}: cannot use {second_at:?} as second"));
    }
    let mut nanos = 0i64;
    if rest.starts_with('.') && rest.as_bytes().get(1).is_some_and(u8::is_ascii_digit) {
        let digits: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
        rest = &rest[1 + digits.len()..];
        let mut padded = digits.chars().take(9).collect::<String>();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().unwrap_or(0);
    }
    let offset = if let Some(r) = rest.strip_prefix('Z') {
        rest = r;
        0
    } else {
        let at = rest;
        let sign = match rest.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => {
                return Err(if rest.is_empty() {
                    format!("{INVALID}: end of string before UTC offset")
                } else {
                    format!("{INVALID}: cannot use {at:?} as UTC offset")
                })
            }
        };
        let b = rest.as_bytes();
        let ok = b.len() >= 6 && b[1..3].iter().all(u8::is_ascii_digit) && b[3] == b':' && b[4..6].iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(format!("{INVALID}: cannot use {at:?} as UTC offset"));
        }
        let h: i64 = rest[1..3].parse().unwrap_or(0);
        let m: i64 = rest[4..6].parse().unwrap_or(0);
        rest = &rest[6..];
        sign * (h * 3600 + m * 60)
    };
    if !rest.is_empty() {
        return Err(format!("{INVALID}: extra text: {rest:?}"));
    }
    if day > days_in_month(year, month) {
        return Err(format!("{INVALID}: day out of range"));
    }
    let local = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    Ok(Stamp { secs: local - offset, nanos, offset })
}

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: usize,
}

fn parts(t: &Stamp) -> Parts {
    let local = t.secs + t.offset;
    let days = local.div_euclid(86400);
    let sod = local.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod % 3600 / 60,
        second: sod % 60,
        weekday: (days + 4).rem_euclid(7) as usize,
    }
}

fn offset_str(offset: i64, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let m = offset.abs() / 60;
    if colon {
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

/// Go's RFC 3339 layout without fractional seconds.
fn rfc3339(t: &Stamp) -> String {
    let p = parts(t);
    let zone = if t.offset == 0 { "Z".to_string() } else { offset_str(t.offset, true) };
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}", p.year, p.month, p.day, p.hour, p.minute, p.second)
}

const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

fn verb_err(verb: &str, why: &str) -> String {
    format!("Invalid function argument: Invalid value for \"format\" parameter: invalid date format verb {verb:?}: {why}")
}

pub(super) fn formatdate(a: Args, _: &Path) -> FResult {
    let format = as_str(&a[0], "format")?;
    let ts = as_str(&a[1], "time")?;
    let t = parse(&ts).map_err(|e| format!("Invalid function argument: Invalid value for \"time\" parameter: {e}"))?;
    let p = parts(&t);
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // A quoted literal; '' inside it (or on its own) is one quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err("Invalid function argument: Invalid value for \"format\" parameter: unterminated literal '".into())
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        out.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        out.push(*ch);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == c {
            i += 1;
        }
        let verb: String = chars[start..i].iter().collect();
        let n = i - start;
        let piece = match (c, n) {
            ('Y', 2) => format!("{:02}", p.year.rem_euclid(100)),
            ('Y', 4) => format!("{:04}", p.year),
            ('Y', _) => return Err(verb_err(&verb, "year must either be \"YY\" or \"YYYY\"")),
            ('M', 1) => p.month.to_string(),
            ('M', 2) => format!("{:02}", p.month),
            ('M', 3) => MONTHS[(p.month - 1) as usize][..3].to_string(),
            ('M', 4) => MONTHS[(p.month - 1) as usize].to_string(),
            ('M', _) => return Err(verb_err(&verb, "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"")),
            ('D', 1) => p.day.to_string(),
            ('D', 2) => format!("{:02}", p.day),
            ('D', _) => return Err(verb_err(&verb, "day of month must either be \"D\" or \"DD\"")),
            ('E', 3) => DAYS[p.weekday][..3].to_string(),
            ('E', 4) => DAYS[p.weekday].to_string(),
            ('E', _) => return Err(verb_err(&verb, "day of week must either be \"EEE\" or \"EEEE\"")),
            ('h', 1) => p.hour.to_string(),
            ('h', 2) => format!("{:02}", p.hour),
            ('h', _) => return Err(verb_err(&verb, "24-hour must either be \"h\" or \"hh\"")),
            ('H', 1) => (if p.hour % 12 == 0 { 12 } else { p.hour % 12 }).to_string(),
            ('H', 2) => format!("{:02}", if p.hour % 12 == 0 { 12 } else { p.hour % 12 }),
            ('H', _) => return Err(verb_err(&verb, "12-hour must either be \"H\" or \"HH\"")),
            ('A', 2) => (if p.hour < 12 { "AM" } else { "PM" }).to_string(),
            ('A', _) => return Err(verb_err(&verb, "must be \"AA\"")),
            ('a', 2) => (if p.hour < 12 { "am" } else { "pm" }).to_string(),
            ('a', _) => return Err(verb_err(&verb, "must be \"aa\"")),
            ('m', 1) => p.minute.to_string(),
            ('m', 2) => format!("{:02}", p.minute),
            ('m', _) => return Err(verb_err(&verb, "minute must either be \"m\" or \"mm\"")),
            ('s', 1) => p.second.to_string(),
            ('s', 2) => format!("{:02}", p.second),
            ('s', _) => return Err(verb_err(&verb, "second must either be \"s\" or \"ss\"")),
            ('Z', 1) => if t.offset == 0 { "Z".into() } else { offset_str(t.offset, true) },
            ('Z', 3) => if t.offset == 0 { "UTC".into() } else { offset_str(t.offset, false) },
            ('Z', 4) => offset_str(t.offset, false),
            ('Z', 5) => offset_str(t.offset, true),
            ('Z', _) => return Err(verb_err(&verb, "timezone must be Z, ZZZZ, or ZZZZZ")),
            _ => {
                return Err(format!(
                    "Invalid function argument: Invalid value for \"format\" parameter: invalid date format verb {verb:?}"
                ))
            }
        };
        out.push_str(&piece);
    }
    Ok(Value::str(out))
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn parse_duration(s: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(s));
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix('-') {
        neg = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let int: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest = &rest[int.len()..];
        let mut frac = String::new();
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            frac = rest.chars().take_while(char::is_ascii_digit).collect();
            rest = &rest[frac.len()..];
        }
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit: String = rest.chars().take_while(|c| *c != '.' && !c.is_ascii_digit()).collect();
        rest = &rest[unit.len()..];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {}", go_quote(s)));
        }
        let scale: f64 = match unit.as_str() {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit {} in duration {}", go_quote(&unit), go_quote(s))),
        };
        let number: f64 = format!("{}.{}", if int.is_empty() { "0" } else { &int }, if frac.is_empty() { "0" } else { &frac })
            .parse()
            .map_err(|_| invalid())?;
        total += number * scale;
    }
    if total > 9.223372036854776e18 {
        return Err(invalid());
    }
    let ns = total.trunc() as i128;
    Ok(if neg { -ns } else { ns })
}

/// Go's `strconv.Quote` for the ASCII strings durations are made of.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

pub(super) fn timeadd(a: Args, _: &Path) -> FResult {
    let t = parse(&as_str(&a[0], "timestamp")?)?;
    let d = parse_duration(&as_str(&a[1], "duration")?)?;
    let total = t.secs as i128 * 1_000_000_000 + t.nanos as i128 + d;
    let secs = total.div_euclid(1_000_000_000) as i64;
    let nanos = total.rem_euclid(1_000_000_000) as i64;
    Ok(Value::str(rfc3339(&Stamp { secs, nanos, offset: t.offset })))
}

pub(super) fn timecmp(a: Args, _: &Path) -> FResult {
    let arg = |i: usize, name: &str| -> Result<Stamp, String> {
        parse(&as_str(&a[i], name)?).map_err(|e| format!("Invalid function argument: Invalid value for {name:?} parameter: {e}"))
    };
    let x = arg(0, "timestamp_a")?;
    let y = arg(1, "timestamp_b")?;
    let ord = (x.secs, x.nanos).cmp(&(y.secs, y.nanos));
    Ok(Value::Number(ord as i8 as f64))
}
