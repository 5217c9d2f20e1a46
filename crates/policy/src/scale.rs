//! Large plans made of copies of a real plan's resources: the scaling series of `cargo xtask
//! bench policy` and the test that a large plan's findings equal its copies' findings
//! evaluated one by one (so an evaluation shortcut cannot change what the rules find).
//!
//! Copy `i` keeps every resource's shape and configuration and differs only in names, so no
//! copy links to another: a resource in a module moves to instance `["c<i>"]` of its top
//! module call (the module configuration is shared, as Terraform shares it between
//! instances); a root resource is renamed `<name>_c<i>`, with its configuration and every
//! reference to it; every known `id`, `arn`, `bucket` and `name` value (and the same string, or an ARN
//! ending in it, wherever a planned value repeats it) gains the suffix `-c<i>`.
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value};

use crate::Policies;

/// Plan sizes of the scaling series (resource changes); 4,625 is issue 29's plan.
pub const SERIES: [usize; 5] = [100, 1000, 4625, 5000, 10000];
/// Goal of the 4,625-resource plan: evaluated in under this many seconds.
pub const GOAL_LARGE_SECS: f64 = 2.0;
/// Goal of the series: time per resource from 1,000 to 10,000 resources grows less than this.
pub const GOAL_FLAT: f64 = 2.0;
/// Goal of the series: peak resident memory below this many times the plan's size.
pub const GOAL_MEMORY: f64 = 4.0;

/// The scaling series of `cargo xtask bench policy`: plans of [`SERIES`] sizes made of copies
/// of `template` (real resource shapes), each written to a file under `dir` and evaluated once
/// as `policy --plan FILE` evaluates it (read straight into the engine's value, then every rule),
/// printing its time, CPU time, time per resource and peak memory. True when the time goals are
/// met: the 4,625-resource plan in under [`GOAL_LARGE_SECS`] and time per resource flat within
/// [`GOAL_FLAT`] from 1,000 to 10,000 resources. Returns the files: the memory goal
/// ([`GOAL_MEMORY`]) is judged by the caller on `policy --plan` as one process per file (in one
/// process, the memory an earlier plan freed is reused by the next, so no figure here is the
/// plan's own).
pub fn series(
    policies: &Policies,
    template: &Value,
    dir: &std::path::Path,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<(bool, Vec<std::path::PathBuf>)> {
    let mut times = Vec::new();
    let mut files = Vec::new();
    let mut ok = true;
    for n in SERIES {
        let plan = replicate(template, copies_for(template, n));
        let resources = changes(&plan).len();
        let file = dir.join(format!("scale-{n}.json"));
        let text = serde_json::to_string(&plan)?;
        drop(plan);
        let bytes = text.len();
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        let before = current_rss();
        reset_peak();
        let (start, cpu) = (Instant::now(), thread_cpu());
        let read = crate::engine_plan::read(&file, policies.held())?;
        let read_took = start.elapsed();
        let mut stages = crate::Stages::default();
        let findings = policies.findings_engine(read, &mut stages)?.len();
        let (took, cpu) = (start.elapsed(), thread_cpu().saturating_sub(cpu));
        let peak = peak_rss();
        let mut goals = Vec::new();
        if n == 4625 {
            let met = took.as_secs_f64() < GOAL_LARGE_SECS;
            ok &= met;
            goals.push(format!("goal < {GOAL_LARGE_SECS} s: {}", verdict(met)));
        }
        goals.push(format!(
            "the memory goal (< {GOAL_MEMORY}x the plan) is judged on one process per plan: in-process, the memory earlier plans freed is reused"
        ));
        writeln!(
            out,
            "scaling: {resources} resources ({:.1} MB plan file): {:.0} ms (cpu {:.0} ms; read {:.0} ms, input {:.0} ms, evaluate {:.0} ms, output {:.0} ms), {:.0} us per resource, peak resident memory {:.1} MB, {:.1} MB before reading the plan ({}; {findings} findings; load average {})",
            bytes as f64 / 1e6,
            took.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
            read_took.as_secs_f64() * 1e3,
            stages.input.as_secs_f64() * 1e3,
            stages.evaluate.as_secs_f64() * 1e3,
            stages.output.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e6 / resources as f64,
            peak.unwrap_or(0) as f64 / 1e6,
            before.unwrap_or(0) as f64 / 1e6,
            goals.join(", "),
            load_average()
        )?;
        times.push((resources, took, cpu));
        files.push(file);
    }
    let per = |r: usize, t: Duration| t.as_secs_f64() / r as f64;
    let first = times.iter().copied().find(|(r, _, _)| *r >= 1000).context("no plan of 1,000 resources")?;
    let last = times[times.len() - 1];
    let growth = per(last.0, last.1) / per(first.0, first.1);
    let cpu_growth = per(last.0, last.2) / per(first.0, first.2).max(f64::MIN_POSITIVE);
    let met = growth < GOAL_FLAT;
    writeln!(
        out,
        "scaling: time per resource from {} to {} resources grows {growth:.2}x (cpu {cpu_growth:.2}x; goal < {GOAL_FLAT:.0}x: {})",
        first.0,
        last.0,
        verdict(met)
    )?;
    Ok((ok && met, files))
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// Peak resident memory of this process so far, in bytes (`VmHWM` of `/proc/self/status`).
pub fn peak_rss() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// Resident memory of this process now, in bytes (`VmRSS` of `/proc/self/status`).
pub fn current_rss() -> Option<u64> {
    status_bytes("VmRSS:")
}

fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident memory to the current one (`5` into `/proc/self/clear_refs`).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`), zero when unavailable.
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The machine's load average (1, 5, 15 minutes).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unavailable".into())
}

/// A plan holding `copies` copies of `template`'s resources (see the module documentation).
pub fn replicate(template: &Value, copies: usize) -> Value {
    build(template, 0..copies)
}

/// The plan of copy `i` alone: exactly the resources copy `i` contributes to [`replicate`].
pub fn copy(template: &Value, i: usize) -> Value {
    build(template, i..i + 1)
}

/// Copies needed for about `resources` resource changes.
pub fn copies_for(template: &Value, resources: usize) -> usize {
    resources.div_ceil(changes(template).len().max(1)).max(1)
}

fn changes(plan: &Value) -> &[Value] {
    plan.get("resource_changes").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn build(template: &Value, range: std::ops::Range<usize>) -> Value {
    let rcs = changes(template);
    // Root resources by address without instance key ("aws_x.a", "data.aws_y.b").
    let root: BTreeSet<String> = rcs
        .iter()
        .filter(|rc| rc.get("module_address").and_then(Value::as_str).unwrap_or("").is_empty())
        .filter_map(|rc| rc.get("address").and_then(Value::as_str))
        .map(|a| base(a).to_string())
        .collect();
    let known: BTreeSet<String> = rcs
        .iter()
        .filter_map(|rc| rc.pointer("/change/after").and_then(Value::as_object))
        .flat_map(|after| ["id", "arn", "bucket", "name"].into_iter().filter_map(|k| after.get(k)?.as_str()))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut out = match template {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let mut all = Vec::with_capacity(rcs.len() * range.len());
    let mut config_resources = Vec::new();
    let config_template = template
        .pointer("/configuration/root_module/resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for i in range {
        let tag = format!("c{i}");
        for rc in rcs {
            let mut rc = rc.clone();
            let module = rc.get("module_address").and_then(Value::as_str).unwrap_or("").to_string();
            let address = rc.get("address").and_then(Value::as_str).unwrap_or("").to_string();
            if let Some(m) = rc.as_object_mut() {
                if module.is_empty() {
                    m.insert("address".into(), Value::String(rename_root(&address, &root, &tag)));
                    if let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) {
                        m.insert("name".into(), Value::String(format!("{name}_{tag}")));
                    }
                } else {
                    let keyed = key_module(&module, &tag);
                    let rest = address.strip_prefix(module.as_str()).unwrap_or(&address).to_string();
                    m.insert("module_address".into(), Value::String(keyed.clone()));
                    m.insert("address".into(), Value::String(format!("{keyed}{rest}")));
                }
            }
            for part in ["after", "before"] {
                if let Some(v) = rc.pointer_mut(&format!("/change/{part}")) {
                    suffix_known(v, &known, &tag);
                }
            }
            all.push(rc);
        }
        for c in &config_template {
            let mut c = c.clone();
            if let Some(m) = c.as_object_mut() {
                let address = m.get("address").and_then(Value::as_str).unwrap_or("").to_string();
                if root.contains(base(&address)) {
                    m.insert("address".into(), Value::String(rename_root(&address, &root, &tag)));
                    if let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) {
                        m.insert("name".into(), Value::String(format!("{name}_{tag}")));
                    }
                }
                if let Some(e) = m.get_mut("expressions") {
                    rename_references(e, &root, &tag);
                }
            }
            config_resources.push(c);
        }
    }
    out.insert("resource_changes".into(), Value::Array(all));
    if let Some(Value::Object(rm)) = out.get_mut("configuration").and_then(|c| c.get_mut("root_module")) {
        if rm.contains_key("resources") {
            rm.insert("resources".into(), Value::Array(config_resources));
        }
    }
    Value::Object(out)
}

/// An address without its instance key: `aws_x.a["k"]` -> `aws_x.a`.
fn base(address: &str) -> &str {
    address.split('[').next().unwrap_or(address)
}

/// `aws_x.a["k"]` -> `aws_x.a_c1["k"]` when `aws_x.a` is a root resource of the plan.
fn rename_root(address: &str, root: &BTreeSet<String>, tag: &str) -> String {
    let b = base(address);
    if root.contains(b) {
        format!("{b}_{tag}{}", &address[b.len()..])
    } else {
        address.to_string()
    }
}

/// `module.a.module.b` -> `module.a["c1"].module.b`; an existing key `module.a["x"]` becomes
/// `module.a["x-c1"]`, `module.a[0]` becomes `module.a["0-c1"]`.
fn key_module(module: &str, tag: &str) -> String {
    let Some(rest) = module.strip_prefix("module.") else {
        return module.to_string();
    };
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if let Some(keyed) = after.strip_prefix('[') {
        let close = keyed.find(']').unwrap_or(keyed.len());
        let key = keyed[..close].trim_matches('"');
        format!("module.{name}[\"{key}-{tag}\"]{}", keyed.get(close + 1..).unwrap_or(""))
    } else {
        format!("module.{name}[\"{tag}\"]{after}")
    }
}

/// Rewrites references to root resources in a configuration expression tree.
fn rename_references(v: &mut Value, root: &BTreeSet<String>, tag: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "references" {
                    if let Value::Array(refs) = x {
                        for r in refs.iter_mut() {
                            if let Value::String(s) = r {
                                *s = rename_reference(s, root, tag);
                            }
                        }
                    }
                } else {
                    rename_references(x, root, tag);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_references(x, root, tag)),
        _ => {}
    }
}

/// `aws_x.a.arn` -> `aws_x.a_c1.arn` (also `aws_x.a`, `aws_x.a["k"]`) for a root resource `aws_x.a`.
fn rename_reference(s: &str, root: &BTreeSet<String>, tag: &str) -> String {
    for b in root {
        if let Some(rest) = s.strip_prefix(b.as_str()) {
            if rest.is_empty() || rest.starts_with('.') || rest.starts_with('[') {
                return format!("{b}_{tag}{rest}");
            }
        }
    }
    s.to_string()
}

/// An ARN or path ending in a known value (`arn:aws:s3:::<bucket>`).
fn names_known(s: &str, known: &BTreeSet<String>) -> bool {
    known.iter().any(|k| s.strip_suffix(k.as_str()).is_some_and(|head| head.ends_with([':', '/'])))
}

/// Suffixes every string of `known` (ids, ARNs, bucket names), and every ARN or path ending
/// in one, inside a planned value.
fn suffix_known(v: &mut Value, known: &BTreeSet<String>, tag: &str) {
    match v {
        Value::String(s) if known.contains(s.as_str()) || names_known(s, known) => s.push_str(&format!("-{tag}")),
        Value::Object(m) => m.values_mut().for_each(|x| suffix_known(x, known, tag)),
        Value::Array(a) => a.iter_mut().for_each(|x| suffix_known(x, known, tag)),
        _ => {}
    }
}
