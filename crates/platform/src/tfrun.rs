//! Terraform runs the way the harness drives them everywhere: one working directory
//! ([`TfDir`]), the steps of a terratest-style test (init, plan, show as a typed plan, apply, the
//! idempotency re-plan, destroy), each a long-running child run through duct with the harness's
//! Terraform environment, and a retry when Terraform fails with an error known to be transient
//! (a dropped connection to the backend, throttling). Any other failure is returned at once with
//! Terraform's own output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::tools::Terraform;

/// Output of one Terraform command.
#[derive(Clone, Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// How many attempts it took (1 unless a transient error was retried).
    pub attempts: u32,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout and stderr together, as Terraform printed them.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// What `terraform plan -detailed-exitcode` said.
#[derive(Clone, Debug)]
pub enum Plan {
    NoChanges(Output),
    Changes(Output),
    Failed(Output),
}

/// A resource change of a plan shown as JSON.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ResourceChange {
    pub address: String,
    pub actions: Vec<String>,
}

/// `terraform show -json PLANFILE`, typed where the harness reads it, with the whole document.
#[derive(Clone, Debug)]
pub struct ShownPlan {
    pub format_version: String,
    pub terraform_version: String,
    pub resource_changes: Vec<ResourceChange>,
    pub json: serde_json::Value,
}

impl ShownPlan {
    /// Parses the JSON `terraform show -json` printed; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<ShownPlan> {
        #[derive(Deserialize)]
        struct Change {
            actions: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Rc {
            address: String,
            change: Change,
        }
        #[derive(Deserialize)]
        struct Doc {
            format_version: String,
            #[serde(default)]
            terraform_version: String,
            #[serde(default)]
            resource_changes: Vec<Rc>,
        }
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| anyhow::anyhow!("{origin}:{}:{}: not JSON: {e}", e.line(), e.column()))?;
        let doc: Doc = serde_json::from_value(json.clone())
            .map_err(|e| anyhow::anyhow!("{origin}: not a plan as `terraform show -json` writes it: {e}"))?;
        Ok(ShownPlan {
            format_version: doc.format_version,
            terraform_version: doc.terraform_version,
            resource_changes: doc
                .resource_changes
                .into_iter()
                .map(|r| ResourceChange { address: r.address, actions: r.change.actions })
                .collect(),
            json,
        })
    }

    /// Addresses whose change is anything but no-op or read.
    pub fn changing(&self) -> Vec<String> {
        self.resource_changes
            .iter()
            .filter(|r| !r.actions.iter().all(|a| a == "no-op" || a == "read"))
            .map(|r| format!("{} ({})", r.address, r.actions.join(", ")))
            .collect()
    }
}

/// Errors that go away when the same command runs again: the backend's connection dropped or
/// the endpoint throttled. Lock conflicts, stale plans and configuration errors are not here:
/// retrying them would hide a real problem.
pub const TRANSIENT: &[&str] = &[
    "connection reset by peer",
    "connection refused",
    "i/o timeout",
    "TLS handshake timeout",
    "unexpected EOF",
    "503 Service Unavailable",
    "StatusCode: 503",
    "StatusCode: 500",
    "SlowDown",
    "RequestTimeout",
    "ThrottlingException",
    "Throttling: Rate exceeded",
];

/// Whether Terraform's output names a transient error.
pub fn transient(text: &str) -> bool {
    !text.contains("Error acquiring the state lock") && TRANSIENT.iter().any(|t| text.contains(t))
}

/// How often and how long to retry a transient failure.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub pause: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { attempts: 3, pause: Duration::from_secs(2) }
    }
}

/// `expr` with its child killed (SIGKILL) when the thread that spawned it dies, the process
/// killed with it: a crashed or killed harness never leaves a Terraform behind holding the state
/// lock (`prctl(PR_SET_PDEATHSIG)`). A parent that died before the child got there kills the
/// child at once. Every Terraform the harness runs is spawned here.
pub fn dies_with_parent(expr: duct::Expression) -> duct::Expression {
    expr.before_spawn(|cmd| {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec the closure calls only async-signal-safe functions
        // (prctl, getppid, raise) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::raise(libc::SIGKILL);
                }
                Ok(())
            });
        }
        Ok(())
    })
}

/// A Terraform working directory and the environment every command in it runs with.
#[derive(Clone, Debug)]
pub struct TfDir {
    tf: Terraform,
    dir: PathBuf,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
    retry: Retry,
}

impl TfDir {
    pub fn new(tf: &Terraform, dir: impl Into<PathBuf>) -> TfDir {
        TfDir { tf: tf.clone(), dir: dir.into(), env: Vec::new(), env_remove: Vec::new(), retry: Retry::default() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> TfDir {
        self.env.push((key.to_string(), value.as_ref().to_string_lossy().into_owned()));
        self
    }

    pub fn env_remove(mut self, key: &str) -> TfDir {
        self.env_remove.push(key.to_string());
        self
    }

    pub fn retry(mut self, retry: Retry) -> TfDir {
        self.retry = retry;
        self
    }

    /// `terraform ARGS` in the directory, retried on a transient error; a non-zero exit is an
    /// [`Output`], not an error (callers read Terraform's codes).
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Result<Output> {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        let what = args.first().cloned().unwrap_or_default();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut e = dies_with_parent(self.tf.command(&args)).dir(&self.dir).stdout_capture().stderr_capture().unchecked();
            for (k, v) in &self.env {
                e = e.env(k, v);
            }
            for k in &self.env_remove {
                e = e.env_remove(k);
            }
            let out = e.run().with_context(|| format!("cannot run terraform {what} in {}", self.dir.display()))?;
            let out = Output {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                attempts: attempt,
            };
            if out.success() || attempt >= self.retry.attempts || !transient(&out.text()) {
                return Ok(out);
            }
            std::thread::sleep(self.retry.pause);
        }
    }

    /// Runs and requires exit 0; the error carries Terraform's output.
    fn ok<S: AsRef<str>>(&self, args: &[S]) -> Result<Output> {
        let out = self.run(args)?;
        if !out.success() {
            bail!(
                "terraform {} in {} failed (exit {}{}):\n{}",
                args.first().map(|a| a.as_ref()).unwrap_or(""),
                self.dir.display(),
                out.code,
                if out.attempts > 1 { format!(", {} attempts", out.attempts) } else { String::new() },
                out.stderr.trim()
            );
        }
        Ok(out)
    }

    /// `terraform init -input=false -no-color EXTRA`.
    pub fn init(&self, extra: &[String]) -> Result<Output> {
        self.ok(&[&["init".to_string(), "-input=false".into(), "-no-color".into()], extra].concat())
    }

    /// `terraform plan -input=false -no-color -detailed-exitcode EXTRA`.
    pub fn plan(&self, extra: &[String]) -> Result<Plan> {
        let args = [&["plan".to_string(), "-input=false".into(), "-no-color".into(), "-detailed-exitcode".into()], extra].concat();
        let out = self.run(&args)?;
        Ok(match out.code {
            0 => Plan::NoChanges(out),
            2 => Plan::Changes(out),
            _ => Plan::Failed(out),
        })
    }

    /// `terraform show -json PLANFILE`, typed.
    pub fn show(&self, plan_file: &str) -> Result<ShownPlan> {
        let out = self.ok(&["show", "-json", "-no-color", plan_file])?;
        ShownPlan::parse(out.stdout.as_bytes(), &format!("terraform show -json {}", self.dir.join(plan_file).display()))
    }

    /// `terraform apply -input=false -no-color EXTRA` (a saved plan or `-auto-approve` in EXTRA).
    pub fn apply(&self, extra: &[String]) -> Result<Output> {
        self.run(&[&["apply".to_string(), "-input=false".into(), "-no-color".into()], extra].concat())
    }

    /// The idempotency check after an apply: a new plan must have no changes; otherwise the
    /// error lists the resources that would change.
    pub fn assert_idempotent(&self, extra: &[String]) -> Result<()> {
        let file = "idempotency.tfplan".to_string();
        match self.plan(&[extra, &[format!("-out={file}")]].concat())? {
            Plan::NoChanges(_) => Ok(()),
            Plan::Changes(_) => {
                let shown = self.show(&file)?;
                bail!("not idempotent: a plan right after the apply still changes {}", shown.changing().join("; "))
            }
            Plan::Failed(out) => bail!("the idempotency plan failed:\n{}", out.stderr.trim()),
        }
    }

    /// `terraform destroy -auto-approve -input=false -no-color EXTRA`, required to succeed.
    pub fn destroy(&self, extra: &[String]) -> Result<Output> {
        self.ok(&[&["destroy".to_string(), "-auto-approve".into(), "-input=false".into(), "-no-color".into()], extra].concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_named_and_others_are_not() {
        for (text, want) in [
            ("Error: operation error S3: GetObject, https response error StatusCode: 503", true),
            ("dial tcp 127.0.0.1:4566: connect: connection refused", true),
            ("read tcp: connection reset by peer", true),
            ("Error: Error acquiring the state lock ... StatusCode: 503", false),
            ("Error: Saved plan is stale", false),
            ("Error: Unsupported argument", false),
            ("Error: Reference to undeclared input variable", false),
        ] {
            assert_eq!(transient(text), want, "{text}");
        }
    }

    /// A stand-in `terraform` that fails with `message` until it has run `fail` times.
    fn scripted(dir: &Path, fail: u32, message: &str) -> TfDir {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("terraform");
        std::fs::write(
            &bin,
            format!(
                "#!/bin/sh\nn=$(cat {d}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/count\n\
                 if [ $n -le {fail} ]; then echo '{message}' >&2; exit 1; fi\necho \"ran $*\"\n",
                d = dir.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tf = Terraform::at(bin, "1.15.5", dir.join("rc"), dir.join("cache"));
        TfDir::new(&tf, dir).retry(Retry { attempts: 3, pause: Duration::from_millis(1) })
    }

    #[test]
    fn a_transient_failure_is_retried_and_a_real_one_is_not() {
        let d = tempfile::tempdir().unwrap();
        let out = scripted(d.path(), 2, "Error: StatusCode: 503, SlowDown").init(&[]).unwrap();
        assert_eq!((out.attempts, out.stdout.trim()), (3, "ran init -input=false -no-color"));

        let d = tempfile::tempdir().unwrap();
        let e = scripted(d.path(), 5, "Error: connection reset by peer").init(&[]).unwrap_err();
        assert!(format!("{e:#}").contains("3 attempts"), "{e:#}");

        let d = tempfile::tempdir().unwrap();
        let out = scripted(d.path(), 1, "Error: Unsupported argument").apply(&[]).unwrap();
        assert_eq!((out.code, out.attempts), (1, 1), "a configuration error is not retried");
    }

    /// A child started through [`dies_with_parent`] by a process that is then SIGKILLed dies
    /// with it. The parent here is a shell that starts a long `sleep` through this test binary's
    /// helper test, prints the sleep's pid and is killed.
    #[test]
    fn a_child_dies_when_its_parent_is_killed() {
        if let Ok(out) = std::env::var("LZ_TFRUN_CHILD_PID_FILE") {
            // The parent role: start the child through the hook, say its pid, wait for it.
            let h = dies_with_parent(duct::cmd("sleep", ["300"])).start().unwrap();
            std::fs::write(&out, h.pids()[0].to_string()).unwrap();
            let _ = h.wait();
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let pid_file = d.path().join("pid");
        let parent = duct::cmd(std::env::current_exe().unwrap(), ["--exact", "tfrun::tests::a_child_dies_when_its_parent_is_killed", "--nocapture"])
            .env("LZ_TFRUN_CHILD_PID_FILE", &pid_file)
            .stdout_null()
            .stderr_null()
            .unchecked()
            .start()
            .unwrap();
        let start = std::time::Instant::now();
        let child: u32 = loop {
            if let Some(p) = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok()) {
                break p;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "the parent never started its child");
            std::thread::sleep(Duration::from_millis(20));
        };
        let alive = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, r)| !r.trim_start().starts_with('Z')))
        };
        assert!(alive(child), "the child runs while its parent does");
        // Only the parent is killed, not its process group: the child must go by itself.
        parent.kill().unwrap();
        let _ = parent.wait();
        let start = std::time::Instant::now();
        while alive(child) {
            assert!(start.elapsed() < Duration::from_secs(10), "the child {child} outlived its killed parent");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn show_output_is_typed_and_bad_json_names_where() {
        let p = ShownPlan::parse(
            br#"{"format_version":"1.2","terraform_version":"1.15.5","resource_changes":[
                {"address":"a.x","change":{"actions":["no-op"]}},
                {"address":"a.y","change":{"actions":["delete","create"]}}]}"#,
            "t",
        )
        .unwrap();
        assert_eq!(p.terraform_version, "1.15.5");
        assert_eq!(p.changing(), ["a.y (delete, create)"]);
        let e = ShownPlan::parse(b"{\n  \"format_version\": ", "plan.json").unwrap_err();
        assert!(format!("{e:#}").starts_with("plan.json:2:"), "{e:#}");
        let e = ShownPlan::parse(br#"{"version": 4, "serial": 1}"#, "state.json").unwrap_err();
        assert!(format!("{e:#}").contains("not a plan"), "{e:#}");
    }
}
