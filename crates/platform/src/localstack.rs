//! LocalStack 4.14.0 in host mode on 127.0.0.1:4566: start, stop, status, and `require` for
//! tests. The pid and log live under `.tools/localstack/`; `down` stops only the process
//! group this harness started.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{progress, tools};

pub const ENDPOINT: &str = "http://127.0.0.1:4566";
/// LocalStack's TLS endpoint: the same gateway answers TLS on 4566 with its own certificate,
/// issued for `localhost` (trusted explicitly through [`tls_certificate`], never by skipping
/// verification).
pub const TLS_ENDPOINT: &str = "https://localhost:4566";
const GATEWAY_LISTEN: &str = "127.0.0.1:4566";
const START_TIMEOUT: Duration = Duration::from_secs(180);

fn state_dir(root: &Path) -> PathBuf {
    tools::tools_dir(root).join("localstack")
}

pub fn pid_file(root: &Path) -> PathBuf {
    state_dir(root).join("localstack.pid")
}

pub fn log_file(root: &Path) -> PathBuf {
    state_dir(root).join("localstack.log")
}

/// What `/_localstack/health` says, if anything answers.
#[derive(Debug, Clone)]
pub struct Health {
    pub version: String,
    pub edition: String,
    pub services: serde_json::Map<String, serde_json::Value>,
    /// How long the answer took (a slow answer is still an answer).
    pub elapsed: Duration,
}

/// How long the health probe waits for a connection to open: loopback opens at once, so a
/// refused or silent port is "nothing answers".
pub const PROBE_CONNECT: Duration = Duration::from_secs(2);
/// How long the health probe waits for the answer once connected: a loaded LocalStack can take
/// seconds, and that makes it slow, not absent.
pub const PROBE_ANSWER: Duration = Duration::from_secs(30);
/// An answer slower than this is reported as slow.
pub const SLOW: Duration = Duration::from_secs(2);

/// Why the health endpoint gave no health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// No connection within [`PROBE_CONNECT`]: nothing listens.
    NothingAnswers(String),
    /// Connected, but no answer within [`PROBE_ANSWER`].
    NoAnswerInTime(String),
    /// Something answered, but not with LocalStack's health.
    NotLocalStack(String),
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::NothingAnswers(e) => write!(f, "nothing answers ({e})"),
            Unreachable::NoAnswerInTime(e) => write!(f, "it accepts connections but gave no answer within {} s ({e})", PROBE_ANSWER.as_secs()),
            Unreachable::NotLocalStack(e) => write!(f, "what answers is not LocalStack's health endpoint ({e})"),
        }
    }
}

/// Query the health endpoint; `None` when nothing answers.
pub fn health() -> Option<Health> {
    probe(ENDPOINT).ok()
}

/// Query the health endpoint of `endpoint`: a connection must open within [`PROBE_CONNECT`],
/// the answer may take up to [`PROBE_ANSWER`].
pub fn probe(endpoint: &str) -> Result<Health, Unreachable> {
    let agent = ureq::AgentBuilder::new().timeout_connect(PROBE_CONNECT).timeout_read(PROBE_ANSWER).timeout_write(PROBE_CONNECT).build();
    let started = Instant::now();
    let resp = match agent.get(&format!("{endpoint}/_localstack/health")).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, _)) => return Err(Unreachable::NotLocalStack(format!("HTTP {code}"))),
        Err(ureq::Error::Transport(t)) => {
            let text = t.to_string();
            // A read that timed out happened on an open connection.
            let timed_out_reading = matches!(t.kind(), ureq::ErrorKind::Io) && (text.contains("timed out") || text.contains("WouldBlock"));
            return Err(if timed_out_reading && started.elapsed() >= PROBE_CONNECT { Unreachable::NoAnswerInTime(text) } else { Unreachable::NothingAnswers(text) });
        }
    };
    let body = resp.into_string().map_err(|e| Unreachable::NoAnswerInTime(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| Unreachable::NotLocalStack(e.to_string()))?;
    Ok(Health {
        version: json["version"].as_str().unwrap_or("unknown").to_string(),
        edition: json["edition"].as_str().unwrap_or("unknown").to_string(),
        services: json["services"].as_object().cloned().unwrap_or_default(),
        elapsed: started.elapsed(),
    })
}

/// The endpoint of a running LocalStack, or a loud error saying how to start one. Tests that
/// need LocalStack call this first.
pub fn require(_root: &Path) -> Result<String> {
    match probe(ENDPOINT) {
        Ok(h) if h.version.starts_with(tools::LOCALSTACK_VERSION) => Ok(ENDPOINT.to_string()),
        Ok(h) => bail!(
            "LocalStack at {ENDPOINT} is version {}, expected {}: stop it and run `cargo xtask localstack up`",
            h.version,
            tools::LOCALSTACK_VERSION
        ),
        Err(e @ Unreachable::NothingAnswers(_)) => bail!(
            "this test needs LocalStack at {ENDPOINT} and {e}: run the suite with `cargo xtask test` (it starts LocalStack) or start it with `cargo xtask localstack up`"
        ),
        Err(e) => bail!("LocalStack at {ENDPOINT}: {e}"),
    }
}

/// Whether we started it: `Some(pid)` when our pid file names a live LocalStack process.
pub fn our_pid(root: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file(root)).ok()?.trim().parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains("localstack.runtime.main").then_some(pid)
}

/// Outcome of `up`.
pub enum Up {
    AlreadyRunning(Health),
    Started { pid: u32, health: Health },
}

/// Start LocalStack unless something already answers on the endpoint.
pub fn up(root: &Path) -> Result<Up> {
    if let Some(h) = health() {
        return Ok(Up::AlreadyRunning(h));
    }
    let ls = tools::localstack(root)?;
    let dir = state_dir(root);
    std::fs::create_dir_all(dir.join("volume")).with_context(|| format!("creating {}", dir.display()))?;
    let log = std::fs::File::create(log_file(root)).context("creating the LocalStack log")?;
    let log_err = log.try_clone().context("cloning the LocalStack log handle")?;
    let cmd = duct::cmd!(&ls.python, "-m", "localstack.runtime.main")
        .dir(&dir)
        .env("GATEWAY_LISTEN", GATEWAY_LISTEN)
        .env("LOCALSTACK_HOST", "localhost.localstack.cloud:4566")
        .env("LOCALSTACK_VOLUME_DIR", dir.join("volume"))
        .env("DNS_ADDRESS", "0")
        .env("DISABLE_EVENTS", "1")
        .env("LOCALSTACK_TELEMETRY_DISABLED", "1")
        .env("DISABLE_CORS_CHECKS", "1")
        .env("PERSISTENCE", "0")
        .stdin_null()
        .stdout_file(log)
        .stderr_file(log_err)
        .unchecked()
        // Its own process group, so `down` can stop LocalStack and every child it spawned.
        .before_spawn(|c| {
            use std::os::unix::process::CommandExt;
            c.process_group(0);
            Ok(())
        });
    let child = cmd.start().with_context(|| format!("starting LocalStack with {}", ls.python.display()))?;
    let pid = *child.pids().first().context("LocalStack started without a pid")?;
    std::fs::write(pid_file(root), format!("{pid}\n")).context("writing the LocalStack pid file")?;
    let bar = progress::spinner("localstack: waiting for /_localstack/health");
    let started = Instant::now();
    loop {
        if let Some(h) = health() {
            bar.finish_and_clear();
            return Ok(Up::Started { pid, health: h });
        }
        // The child handle, not /proc: a read of /proc/PID/cmdline can race the interpreter's
        // start and report a live LocalStack as gone.
        if let Some(out) = child.try_wait().context("waiting for LocalStack")? {
            let status = out.status;
            bar.finish_and_clear();
            bail!(
                "LocalStack exited during start-up ({status}); see {}:\n{}",
                log_file(root).display(),
                tail(&log_file(root), 30)
            );
        }
        if started.elapsed() > START_TIMEOUT {
            bar.finish_and_clear();
            let _ = stop_group(pid);
            bail!("LocalStack did not become healthy within {START_TIMEOUT:?}; see {}", log_file(root).display());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Stop the LocalStack this harness started; `Ok(false)` when there was none of ours.
pub fn down(root: &Path) -> Result<bool> {
    let Some(pid) = our_pid(root) else {
        let _ = std::fs::remove_file(pid_file(root));
        return Ok(false);
    };
    stop_group(pid)?;
    let _ = std::fs::remove_file(pid_file(root));
    Ok(true)
}

fn stop_group(pid: u32) -> Result<()> {
    let group = format!("-{pid}");
    let _ = duct::cmd!("kill", "-TERM", "--", &group).stderr_null().unchecked().run();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if !group_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = duct::cmd!("kill", "-KILL", "--", &group).stderr_null().unchecked().run();
    std::thread::sleep(Duration::from_millis(500));
    if group_alive(pid) {
        bail!("LocalStack process group {pid} survived SIGKILL");
    }
    Ok(())
}

/// Whether any process of the group led by `pgid` is still alive (zombies excluded).
pub fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.filter_map(|e| e.ok()).any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { return false };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        // Fields after the parenthesised command: state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return false };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let _ppid = fields.next();
        let pgrp = fields.next().and_then(|p| p.parse::<u32>().ok());
        pgrp == Some(pgid) && state != "Z"
    })
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The certificate LocalStack serves on its TLS endpoint: `server.test.pem.crt` in its cache
/// directory (under the volume directory the harness gives it, or `/var/lib/localstack/cache`
/// where LocalStack 4 keeps it when run as root). `None` when there is none.
pub fn tls_certificate(root: &Path) -> Option<std::path::PathBuf> {
    [state_dir(root).join("volume/cache/server.test.pem.crt"), std::path::PathBuf::from("/var/lib/localstack/cache/server.test.pem.crt")]
        .into_iter()
        .find(|p| p.is_file())
}

/// An exclusive hold on accounts of the one LocalStack this machine runs, for tests that change
/// state other tests of those accounts rely on: Secrets Manager versions (LocalStack drops a
/// version once it has lost its labels, so two rotations elsewhere make a recorded one vanish) and
/// the consumer roles rotation verifies. Held until dropped.
pub struct Lease {
    _files: Vec<std::fs::File>,
}

/// Waits for, then takes, the [`Lease`] of `accounts`. The lock files live in the system's
/// temporary directory, because clones and worktrees of this repository share the one LocalStack
/// on 127.0.0.1; locks are taken in account order, so two holders never wait on each other.
pub fn lease(accounts: &[&str]) -> Result<Lease> {
    let dir = std::env::temp_dir().join("lz-localstack-leases");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut ids = accounts.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        let path = dir.join(format!("{id}.lock"));
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        files.push(file);
    }
    Ok(Lease { _files: files })
}

#[cfg(test)]
mod lease_tests {
    /// A second holder of an account waits until the first drops its lease.
    #[test]
    fn a_lease_excludes_a_second_holder_until_dropped() {
        let (account, other) = (format!("9{:011}", std::process::id()), format!("8{:011}", std::process::id()));
        let first = super::lease(&[&account, &other]).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let second = std::thread::spawn({
            let account = account.clone();
            move || {
                let _held = super::lease(&[&account]).unwrap();
                tx.send(()).unwrap();
            }
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "the second holder got the lease while the first held it");
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(30)).expect("the second holder gets the lease once the first drops it");
        second.join().unwrap();
        for id in [account, other] {
            let _ = std::fs::remove_file(std::env::temp_dir().join(format!("lz-localstack-leases/{id}.lock")));
        }
    }
}
