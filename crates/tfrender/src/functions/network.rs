use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::{as_int, as_num, as_str, str_list, Args, FResult};
use crate::value::Value;

struct Net {
    addr: u128,
    bits: u32,
    prefix: u32,
}

fn parse_cidr(s: &str) -> Result<Net, String> {
    let err = || format!("invalid CIDR expression: invalid CIDR address: {s}");
    let (ip, pre) = s.split_once('/').ok_or_else(err)?;
    if pre.is_empty() || !pre.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let prefix: u32 = pre.parse().map_err(|_| err())?;
    let ip: IpAddr = parse_ip(ip).ok_or_else(err)?;
    let (addr, bits) = match ip {
        IpAddr::V4(v) => (u32::from(v) as u128, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    };
    if prefix > bits {
        return Err(err());
    }
    let mask = mask(bits, prefix);
    Ok(Net { addr: addr & mask, bits, prefix })
}

/// An address as Terraform's CIDR functions read it: IPv4 octets are decimal and may have
/// leading zeros (`010.0.0.1` is 10.0.0.1), as Go's parser did before 1.17.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse().ok();
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v = p.bytes().try_fold(0u32, |n, b| Some(n * 10 + u32::from(b - b'0')).filter(|n| *n <= 255))?;
        *o = v as u8;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

fn mask(bits: u32, prefix: u32) -> u128 {
    let all: u128 = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    if prefix == 0 {
        0
    } else {
        all & !((1u128 << (bits - prefix)).wrapping_sub(1) | if bits - prefix == 128 { u128::MAX } else { 0 })
    }
}

fn fmt_addr(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

/// As Terraform (go-cidr's `SubnetBig`): the number is ORed into the base network at the new
/// prefix. Negative `newbits` shorten the prefix; the base keeps its bits beyond the shorter
/// prefix (`cidrsubnet("10.1.2.0/24", -1, 0)` is `10.1.2.0/23`) and any number that fits in
/// the address is accepted.
fn subnet(n: &Net, newbits: i64, netnum: i64) -> Result<Net, String> {
    let newprefix = n.prefix as i64 + newbits;
    if newprefix > n.bits as i64 {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            n.prefix
        ));
    }
    if newprefix < 0 {
        // Terraform returns the string "<nil>" here: not a network, so refused.
        return Err(format!(
            "Unsupported function: cidrsubnet shortening a prefix of {} by {} bits gives no network (Terraform returns \"<nil>\")",
            n.prefix, -newbits
        ));
    }
    let newprefix = newprefix as u32;
    let too_big = || format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}");
    if netnum < 0 || ((0..127).contains(&newbits) && (netnum as u128) >= (1u128 << newbits)) {
        return Err(too_big());
    }
    let shift = n.bits - newprefix;
    let all: u128 = if n.bits == 128 { u128::MAX } else { (1u128 << n.bits) - 1 };
    let num = netnum as u128;
    let placed = match shift {
        128.. if num == 0 => 0,
        128.. => return Err(too_big()),
        _ if num > all >> shift => return Err(too_big()),
        _ => num << shift,
    };
    Ok(Net { addr: n.addr | placed, bits: n.bits, prefix: newprefix })
}

pub(super) fn cidrsubnet(a: Args, _: &Path) -> FResult {
    let n = parse_cidr(&as_str(&a[0], "prefix")?)?;
    let s = subnet(&n, as_int(&a[1], "newbits")?, as_int(&a[2], "netnum")?)?;
    Ok(Value::str(format!("{}/{}", fmt_addr(s.addr, s.bits), s.prefix)))
}

pub(super) fn cidrhost(a: Args, _: &Path) -> FResult {
    let n = parse_cidr(&as_str(&a[0], "prefix")?)?;
    let hostnum = as_num(&a[1], "hostnum")?;
    let hostbits = n.bits - n.prefix;
    let size: f64 = 2f64.powi(hostbits as i32);
    let h = if hostnum < 0.0 { size + hostnum } else { hostnum };
    if h < 0.0 || h >= size || hostnum.fract() != 0.0 {
        return Err(format!("prefix of {} does not accommodate a host numbered {}", n.prefix, hostnum as i64));
    }
    Ok(Value::str(fmt_addr(n.addr | h as u128, n.bits)))
}

pub(super) fn cidrnetmask(a: Args, _: &Path) -> FResult {
    let n = parse_cidr(&as_str(&a[0], "prefix")?)?;
    if n.bits != 32 {
        return Err(format!("IPv6 addresses cannot have a netmask: {}", as_str(&a[0], "prefix")?));
    }
    Ok(Value::str(fmt_addr(mask(32, n.prefix), 32)))
}

pub(super) fn cidrsubnets(a: Args, _: &Path) -> FResult {
    let n = parse_cidr(&as_str(&a[0], "prefix")?)?;
    let mut out = Vec::new();
    let mut next: u128 = n.addr;
    let end: u128 = n.addr | !mask(n.bits, n.prefix) & if n.bits == 32 { u32::MAX as u128 } else { u128::MAX };
    for (i, nb) in a[1..].iter().enumerate() {
        let newbits = as_int(nb, "newbits")?;
        if newbits < 1 {
            return Err(format!("Invalid function argument: Invalid value for \"newbits\" parameter: must be at least 1 (argument {})", i + 2));
        }
        let prefix = n.prefix as i64 + newbits;
        if prefix > n.bits as i64 {
            return Err(format!("Invalid function argument: Invalid value for \"newbits\" parameter: would extend prefix to {prefix} bits, which is too long for an IPv{} address", if n.bits == 32 { 4 } else { 6 }));
        }
        let prefix = prefix as u32;
        let size: u128 = 1u128 << (n.bits - prefix).min(127);
        // align next to this subnet size
        let aligned = if next.is_multiple_of(size) { next } else { (next / size + 1) * size };
        if aligned > end || aligned.checked_add(size - 1).is_none_or(|e| e > end) {
            return Err(format!("Invalid function argument: Invalid value for \"newbits\" parameter: not enough remaining address space for a subnet with a prefix of {prefix} bits after {}", out.last().cloned().unwrap_or_default()));
        }
        out.push(format!("{}/{}", fmt_addr(aligned, n.bits), prefix));
        next = aligned + size;
    }
    Ok(str_list(out))
}
