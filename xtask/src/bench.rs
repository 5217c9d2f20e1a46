//! `cargo xtask bench <what>`: each benchmark prints its figures and the ratio against the
//! real peer in one run. Speed goals live here, never in timed tests.
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Offline renderer against real Terraform
    Render,
    /// Policy evaluation against checkov
    Policy,
    /// Evidence append, verify and query throughput; verify, approve and promote on S3 chains
    Evidence {
        /// Lengths of the S3 (LocalStack) chains to time `verify`, `approve` and `promote` on
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        s3_records: Vec<usize>,
        /// Only the S3 part (skip the local-file figures)
        #[arg(long)]
        s3_only: bool,
    },
    /// The evidence chain at scale on S3 (LocalStack): `verify`, `approve`, `promote` and the
    /// provenance lookup, from scratch and incrementally, each with its goal, peak memory and
    /// the load average
    Chain {
        /// Chain lengths (records)
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        records: Vec<usize>,
    },
    /// Generated overlays rendered and checked per second
    Properties,
    /// Lead time of a change through dev -> prod against LocalStack
    Promotion,
    /// A service team's golden path from a fresh checkout: service new, check, release,
    /// promote to dev in a rehearsal (goal < 2 min)
    GoldenPath,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    // Figures are only meaningful in an optimised build: a debug build hands over to the
    // release build of the same benchmark (the properties benchmark runs its own release
    // example; the promotion benchmark is bound by LocalStack and Terraform, not by this code).
    let name = match args.what {
        What::Render => Some("render"),
        What::Policy => Some("policy"),
        What::Evidence { .. } => Some("evidence"),
        What::Chain { .. } => Some("chain"),
        What::Properties | What::Promotion | What::GoldenPath => None,
    };
    if let Some(name) = name.filter(|_| cfg!(debug_assertions) && std::env::var_os("LZ_BENCH_DEBUG").is_none()) {
        println!("building the benchmark in release (set LZ_BENCH_DEBUG=1 to measure this debug build instead)");
        let (sh, cargo) = (crate::sh::at(root)?, crate::sh::cargo());
        let extra: Vec<String> = match &args.what {
            What::Evidence { s3_records, s3_only } => {
                let sizes: Vec<String> = s3_records.iter().map(|n| n.to_string()).collect();
                let mut v = vec!["--s3-records".to_string(), sizes.join(",")];
                if *s3_only {
                    v.push("--s3-only".into());
                }
                v
            }
            What::Chain { records } => {
                vec!["--records".to_string(), records.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")]
            }
            _ => Vec::new(),
        };
        let ok = xshell::cmd!(sh, "{cargo} run --quiet --release --package xtask -- bench {name} {extra...}").env("LZ_ROOT", root).run().is_ok();
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    match args.what {
        What::Render => crate::render::bench(root),
        What::Policy => crate::policy::bench(root),
        What::Evidence { s3_records, s3_only } => crate::evidence::bench(root, &s3_records, s3_only),
        What::Chain { records } => {
            println!("{} build, {}", if cfg!(debug_assertions) { "debug" } else { "release" }, load());
            crate::evidence::bench(root, &records, true)?;
            print_peak();
            Ok(ExitCode::SUCCESS)
        }
        What::Properties => crate::baseline::bench_properties(root),
        What::Promotion => crate::promote::bench(root),
        What::GoldenPath => crate::service::bench(root),
    }
}

/// Peak resident memory of this process so far, in bytes (`VmHWM` of `/proc/self/status`).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Bytes as megabytes for a figure (`12.3 MB`), or "unavailable".
pub fn mb(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "unavailable".into(), |b| format!("{:.1} MB", b as f64 / 1e6))
}

/// The peak memory line every benchmark ends with.
pub fn print_peak() {
    println!("peak resident memory of this benchmark process: {}", mb(peak_rss()));
}

/// The machine's load average (1, 5, 15 minutes).
pub fn load() -> String {
    format!("load average {}", lz_baseline::props::load_average())
}

/// One finished child process: wall time, peak resident memory (its own, from `wait4`) and status.
pub struct Measured {
    pub wall: std::time::Duration,
    /// User plus system CPU time of the process (from `wait4`).
    pub cpu: std::time::Duration,
    pub peak: Option<u64>,
    pub code: Option<i32>,
}

/// Runs a command as a whole process (output discarded) and measures it as the kernel
/// accounts it: started through duct, reaped here with `wait4` for its own peak memory.
pub fn measure(cmd: duct::Expression) -> anyhow::Result<Measured> {
    use anyhow::Context;
    let start = std::time::Instant::now();
    let what = format!("{cmd:?}");
    let handle = cmd.stdout_null().stderr_null().stdin_null().unchecked().start().with_context(|| format!("starting {what}"))?;
    let pid = *handle.pids().first().context("a started command has a process")? as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, reaped here once (the
    // handle is never waited on).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    std::mem::forget(handle);
    if reaped != pid {
        anyhow::bail!("waiting for {what}: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None };
    let time = |t: libc::timeval| std::time::Duration::from_secs(t.tv_sec as u64) + std::time::Duration::from_micros(t.tv_usec as u64);
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    Ok(Measured { wall, cpu, peak: u64::try_from(usage.ru_maxrss).ok().map(|kb| kb * 1024), code })
}

/// The median of some durations.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

