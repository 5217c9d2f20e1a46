//! The workflows' own steps, executed. A small runner reads `.github/workflows/*.yml` and runs
//! each `run:` step the way a GitHub runner would: in a fresh clone per job, with `env:`
//! expressions substituted from a context the test supplies, `$GITHUB_OUTPUT` and
//! `$RUNNER_TEMP` emulated, and `cargo` on PATH able to run nothing but the prebuilt
//! `cargo xtask`. Steps that only prepare a runner (checkout, toolchains, caches) are listed
//! and skipped by name; any other `uses:`, any `if:` and any unknown key fails the test. Lint
//! is not a run: this is what catches a step that cannot work, such as a missing `--as`.
//!
//! Each job's clone has a `.tools/` holding only symlinks to the bootstrapped tools of the
//! repository this test runs from: no evidence, no releases. Whatever a job needs beyond the
//! committed tree it must get from the stores in LocalStack.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use runner::{Context, Step, Workflow};

const ENVS: [&str; 5] = ["dev", "test", "uat", "preprod", "prod"];

/// The jobs that run against LocalStack share its state: one at a time.
static LOCALSTACK: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn workflow(name: &str) -> Workflow {
    let path = root().join(".github/workflows").join(name);
    Workflow::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The approvers of a first (high tier) deployment: two of distinct groups, one of them security.
fn approvers(env: &str) -> [&'static str; 2] {
    if env == "prod" {
        ["bob", "carol"]
    } else {
        ["bob", "erin"]
    }
}

mod runner {
    //! Reads a workflow file and runs a job's steps as a GitHub runner would, within the rules
    //! the workflows promise: preparation actions are skipped, every `run:` is one
    //! `cargo xtask` command without expressions, expressions live only in `env:`.

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use yaml_serde::Value;

    /// Actions that only prepare the runner (a checkout, toolchains, caches): the test has a
    /// clone with the tools already, so these are skipped by name.
    /// Actions the runner may skip: runner preparation, and keeping files as artifacts.
    pub const PREPARATION: &[&str] =
        &["actions/checkout", "actions/setup-python", "dtolnay/rust-toolchain", "Swatinem/rust-cache", "actions/cache", "actions/upload-artifact"];

    const JOB_KEYS: &[&str] =
        &["name", "runs-on", "environment", "needs", "permissions", "concurrency", "timeout-minutes", "strategy", "steps"];
    const STEP_KEYS: &[&str] = &["name", "id", "uses", "with", "run", "env"];
    /// Expression contexts the runner substitutes in `env:` values: `<context>.<name>`.
    const CONTEXTS: &[&str] = &["inputs", "secrets", "vars", "matrix", "github"];
    /// Variables a test process may pass on to a step (the rest of its environment stays out:
    /// a runner starts from a clean one).
    const INHERITED: &[&str] = &["PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "TERM"];

    pub struct Workflow {
        pub file: PathBuf,
        pub jobs: Vec<Job>,
    }

    pub struct Job {
        pub file: PathBuf,
        pub id: String,
        pub needs: Vec<String>,
        pub environment: Option<String>,
        /// `permissions: id-token: write`: GitHub gives the job's steps an OIDC token request
        /// (the runner passes on the one of [`Context::with_oidc`]).
        pub id_token: bool,
        pub steps: Vec<Step>,
    }

    pub enum Step {
        Prepare { name: String, action: String },
        Run(RunStep),
    }

    pub struct RunStep {
        pub name: String,
        pub id: Option<String>,
        /// The command as bash receives it (line continuations joined).
        pub command: String,
        pub env: Vec<(String, String)>,
    }

    /// Values of the expression contexts, keyed `inputs.release`, `secrets.LZ_POLICY_KEY`, ...
    #[derive(Default, Clone)]
    pub struct Context {
        pub values: BTreeMap<String, String>,
        /// The OIDC token endpoint GitHub gives a job with `id-token: write`: request URL,
        /// request token, and the certificate its TLS is verified with (`SSL_CERT_FILE`).
        pub oidc: Option<(String, String, PathBuf)>,
    }

    impl Context {
        pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
            self.values.insert(key.to_string(), value.into());
            self
        }

        pub fn with_oidc(mut self, url: &str, bearer: &str, ca_file: &Path) -> Self {
            self.oidc = Some((url.to_string(), bearer.to_string(), ca_file.to_path_buf()));
            self
        }
    }

    pub struct StepRun {
        pub name: String,
        pub stdout: String,
    }

    pub struct JobRun {
        pub skipped: Vec<String>,
        pub steps: Vec<StepRun>,
        pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    }

    impl Workflow {
        pub fn load(path: &Path) -> Result<Workflow, String> {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Workflow::parse(path, &text)
        }

        /// Every job, validated against the runner's rules.
        pub fn parse(path: &Path, text: &str) -> Result<Workflow, String> {
            let doc: Value = yaml_serde::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
            let jobs = doc
                .get("jobs")
                .and_then(Value::as_mapping)
                .ok_or_else(|| format!("{}: no jobs mapping", path.display()))?;
            let mut out = Vec::new();
            for (id, job) in jobs {
                let id = id.as_str().ok_or_else(|| format!("{}: a job id is not a string", path.display()))?;
                out.push(Job::parse(path, id, job)?);
            }
            Ok(Workflow { file: path.to_path_buf(), jobs: out })
        }

        pub fn job(&self, id: &str) -> &Job {
            self.jobs
                .iter()
                .find(|j| j.id == id)
                .unwrap_or_else(|| panic!("{}: no job {id}", self.file.display()))
        }

        /// Jobs in the order `needs:` runs them (each after the jobs it needs; file order
        /// between independent ones).
        pub fn order(&self) -> Result<Vec<&Job>, String> {
            let mut done: Vec<&Job> = Vec::new();
            while done.len() < self.jobs.len() {
                let next = self
                    .jobs
                    .iter()
                    .find(|j| !done.iter().any(|d| d.id == j.id) && j.needs.iter().all(|n| done.iter().any(|d| &d.id == n)))
                    .ok_or_else(|| format!("{}: jobs' needs form a cycle or name a missing job", self.file.display()))?;
                done.push(next);
            }
            Ok(done)
        }
    }

    impl Job {
        fn parse(file: &Path, id: &str, job: &Value) -> Result<Job, String> {
            let at = |what: String| format!("{} job {id}: {what}", file.display());
            let map = job.as_mapping().ok_or_else(|| at("not a mapping".into()))?;
            for key in map.keys() {
                let key = key.as_str().unwrap_or("?");
                if !JOB_KEYS.contains(&key) {
                    return Err(at(format!("key `{key}` is not supported by the workflow runner")));
                }
            }
            let needs = match job.get("needs") {
                None => vec![],
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Sequence(s)) => s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                Some(_) => return Err(at("needs is neither a string nor a list".into())),
            };
            let environment = job.get("environment").and_then(Value::as_str).map(str::to_string);
            let id_token = job.get("permissions").and_then(|p| p.get("id-token")).and_then(Value::as_str) == Some("write");
            let steps = job
                .get("steps")
                .and_then(Value::as_sequence)
                .ok_or_else(|| at("no steps".into()))?
                .iter()
                .enumerate()
                .map(|(i, s)| Step::parse(s).map_err(|e| at(format!("step {}: {e}", i + 1))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Job { file: file.to_path_buf(), id: id.to_string(), needs, environment, id_token, steps })
        }

        pub fn run_steps(&self) -> impl Iterator<Item = &RunStep> {
            self.steps.iter().filter_map(|s| match s {
                Step::Run(r) => Some(r),
                Step::Prepare { .. } => None,
            })
        }

        /// The run step named `name`.
        pub fn step(&self, name: &str) -> &RunStep {
            self.run_steps().find(|s| s.name == name).unwrap_or_else(|| panic!("job {}: no step {name:?}", self.id))
        }

        /// Runs the job's steps in `clone` (a checkout of the repository), in order, stopping at
        /// the first failure. `only` selects the run steps to execute (all: `|_| true`).
        pub fn run(&self, clone: &Path, ctx: &Context, only: impl Fn(&RunStep) -> bool) -> Result<JobRun, String> {
            let scratch = tempfile::tempdir().map_err(|e| format!("scratch dir: {e}"))?;
            let runner_temp = scratch.path().join("runner-temp");
            let shim = scratch.path().join("shim");
            std::fs::create_dir_all(&runner_temp).and_then(|_| std::fs::create_dir_all(&shim)).map_err(|e| e.to_string())?;
            write_cargo_shim(&shim)?;
            let mut run = JobRun { skipped: vec![], steps: vec![], outputs: BTreeMap::new() };
            for (i, step) in self.steps.iter().enumerate() {
                let step = match step {
                    Step::Prepare { name, action } => {
                        eprintln!("[{}] skipped {name} ({action}: prepares the runner)", self.id);
                        run.skipped.push(name.clone());
                        continue;
                    }
                    Step::Run(r) if only(r) => r,
                    Step::Run(_) => continue,
                };
                let mut env: Vec<(String, String)> = Vec::new();
                for (k, v) in &step.env {
                    let v = substitute(v, ctx, &run.outputs, &runner_temp)
                        .map_err(|e| format!("{} job {} step {:?}: env {k}: {e}", self.file.display(), self.id, step.name))?;
                    env.push((k.clone(), v));
                }
                let output_file = scratch.path().join(format!("github-output-{}", i + 1));
                std::fs::write(&output_file, "").map_err(|e| e.to_string())?;
                let mut cmd = base_command(clone, &shim);
                cmd.args(["-e", "-o", "pipefail", "-c", &step.command])
                    .env("RUNNER_TEMP", &runner_temp)
                    .env("GITHUB_OUTPUT", &output_file)
                    .env("GITHUB_ACTIONS", "true")
                    .envs(env);
                if let (true, Some((url, bearer, ca))) = (self.id_token, &ctx.oidc) {
                    cmd.env("ACTIONS_ID_TOKEN_REQUEST_URL", url).env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", bearer).env("SSL_CERT_FILE", ca);
                }
                eprintln!("[{}] run {}: {}", self.id, step.name, step.command);
                let out = cmd.output().map_err(|e| format!("starting bash: {e}"))?;
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                if !out.status.success() {
                    return Err(format!(
                        "{} job {} step {:?} failed ({})\ncommand: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                        self.file.display(),
                        self.id,
                        step.name,
                        match out.status.code() {
                            Some(c) => format!("exit {c}"),
                            None => "killed by a signal".into(),
                        },
                        step.command
                    ));
                }
                let written = std::fs::read_to_string(&output_file).map_err(|e| e.to_string())?;
                let outputs = parse_outputs(&written).map_err(|e| format!("step {:?}: $GITHUB_OUTPUT: {e}", step.name))?;
                if let Some(id) = &step.id {
                    run.outputs.entry(id.clone()).or_default().extend(outputs);
                }
                eprint!("{stderr}");
                run.steps.push(StepRun { name: step.name.clone(), stdout });
            }
            Ok(run)
        }
    }

    impl Step {
        fn parse(step: &Value) -> Result<Step, String> {
            let map = step.as_mapping().ok_or("not a mapping")?;
            for key in map.keys() {
                let key = key.as_str().unwrap_or("?");
                if !STEP_KEYS.contains(&key) {
                    return Err(format!("key `{key}` is not supported by the workflow runner"));
                }
            }
            let name = step.get("name").and_then(Value::as_str).map(str::to_string);
            match (step.get("uses"), step.get("run")) {
                (Some(uses), None) => {
                    let uses = uses.as_str().ok_or("uses is not a string")?;
                    if step.get("env").is_some() {
                        return Err(format!("env on the preparation step {uses}"));
                    }
                    let action = action_of(uses);
                    if !PREPARATION.contains(&action.as_str()) {
                        return Err(format!(
                            "uses: {uses} is not a runner-preparation action the runner may skip ({})",
                            PREPARATION.join(", ")
                        ));
                    }
                    Ok(Step::Prepare { name: name.unwrap_or_else(|| uses.to_string()), action })
                }
                (None, Some(run)) => {
                    if step.get("with").is_some() {
                        return Err("with on a run step".into());
                    }
                    let run = run.as_str().ok_or("run is not a string")?;
                    let command = one_xtask_command(run)?;
                    let mut env = Vec::new();
                    if let Some(e) = step.get("env") {
                        for (k, v) in e.as_mapping().ok_or("env is not a mapping")? {
                            let k = k.as_str().ok_or("an env name is not a string")?.to_string();
                            let v = match v {
                                Value::String(s) => s.clone(),
                                Value::Number(n) => n.to_string(),
                                Value::Bool(b) => b.to_string(),
                                _ => return Err(format!("env {k} is not a scalar")),
                            };
                            check_expressions(&v).map_err(|e| format!("env {k}: {e}"))?;
                            env.push((k, v));
                        }
                    }
                    let id = step.get("id").and_then(Value::as_str).map(str::to_string);
                    Ok(Step::Run(RunStep { name: name.unwrap_or_else(|| command.clone()), id, command, env }))
                }
                _ => Err("a step needs exactly one of uses and run".into()),
            }
        }
    }

    /// `owner/repo` of `owner/repo[/path]@ref`.
    pub fn action_of(uses: &str) -> String {
        let path = uses.split('@').next().unwrap_or(uses);
        path.split('/').take(2).collect::<Vec<_>>().join("/")
    }

    /// The command of a `run:` that is exactly one `cargo xtask ...` command: no expressions,
    /// no second command, no pipes, redirections or substitutions. Line continuations (and
    /// YAML's folding) may split it over lines.
    pub fn one_xtask_command(run: &str) -> Result<String, String> {
        if run.contains("${{") {
            return Err(format!("an expression inside run: (put it in env:): {run}"));
        }
        let joined = run.replace("\\\n", " ");
        let command = joined.trim();
        if command.contains('\n') {
            return Err(format!("run: holds more than one line: {run}"));
        }
        let mut words: Vec<String> = vec![String::new()];
        let mut quote: Option<char> = None;
        let mut chars = command.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') => quote = None,
                (Some('\''), _) => words.last_mut().unwrap().push(c),
                (Some(_), '`') => return Err(format!("command substitution in run: {command}")),
                (_, '$') if chars.peek() == Some(&'(') => return Err(format!("command substitution in run: {command}")),
                (Some(_), '\\') => {
                    words.last_mut().unwrap().push(c);
                    if let Some(n) = chars.next() {
                        words.last_mut().unwrap().push(n);
                    }
                }
                (Some(_), _) => words.last_mut().unwrap().push(c),
                (None, '\'' | '"') => quote = Some(c),
                (None, ';' | '&' | '|' | '<' | '>' | '`' | '(' | ')' | '#' | '\\') => {
                    return Err(format!("`{c}` in run: (one cargo xtask command per step): {command}"))
                }
                (None, c) if c.is_whitespace() => {
                    if !words.last().unwrap().is_empty() {
                        words.push(String::new());
                    }
                }
                (None, _) => words.last_mut().unwrap().push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("unterminated quote in run: {command}"));
        }
        if words.len() < 3 || words[0] != "cargo" || words[1] != "xtask" {
            return Err(format!("run: is not one `cargo xtask ...` command: {command}"));
        }
        Ok(command.to_string())
    }

    /// The `${{ ... }}` expressions of `value`, trimmed.
    fn expressions(value: &str) -> Result<Vec<(usize, usize, String)>, String> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(start) = value[from..].find("${{").map(|i| i + from) {
            let end = value[start..].find("}}").map(|i| i + start).ok_or_else(|| format!("unterminated expression in {value}"))?;
            out.push((start, end + 2, value[start + 3..end].trim().to_string()));
            from = end + 2;
        }
        Ok(out)
    }

    fn is_name(s: &str) -> bool {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    /// What an expression refers to: a context value, a step output or the runner's temp dir.
    enum Ref<'a> {
        Value(&'a str),
        Output(&'a str, &'a str),
        RunnerTemp,
    }

    fn reference(expr: &str) -> Result<Ref<'_>, String> {
        if expr == "runner.temp" {
            return Ok(Ref::RunnerTemp);
        }
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            [ctx, name] if CONTEXTS.contains(ctx) && is_name(name) => Ok(Ref::Value(expr)),
            ["steps", id, "outputs", name] if is_name(id) && is_name(name) => Ok(Ref::Output(id, name)),
            _ => Err(format!(
                "expression `{expr}` is not one the runner substitutes (inputs, secrets, vars, matrix, github, steps.ID.outputs, runner.temp)"
            )),
        }
    }

    fn check_expressions(value: &str) -> Result<(), String> {
        for (_, _, expr) in expressions(value)? {
            reference(&expr)?;
        }
        Ok(())
    }

    fn substitute(
        value: &str,
        ctx: &Context,
        outputs: &BTreeMap<String, BTreeMap<String, String>>,
        runner_temp: &Path,
    ) -> Result<String, String> {
        let mut out = String::new();
        let mut last = 0;
        for (start, end, expr) in expressions(value)? {
            out.push_str(&value[last..start]);
            let v = match reference(&expr)? {
                Ref::RunnerTemp => runner_temp.to_string_lossy().into_owned(),
                Ref::Value(key) => ctx.values.get(key).cloned().ok_or_else(|| format!("the test supplies no value for {key}"))?,
                Ref::Output(id, name) => outputs
                    .get(id)
                    .and_then(|o| o.get(name))
                    .cloned()
                    .ok_or_else(|| format!("step {id} wrote no output {name} to $GITHUB_OUTPUT"))?,
            };
            out.push_str(&v);
            last = end;
        }
        out.push_str(&value[last..]);
        Ok(out)
    }

    /// `name=value` lines and `name<<DELIMITER` blocks, as GitHub reads `$GITHUB_OUTPUT`.
    fn parse_outputs(text: &str) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.is_empty() {
                continue;
            }
            if let Some((name, delim)) = line.split_once("<<") {
                let mut value = Vec::new();
                loop {
                    match lines.next() {
                        Some(l) if l == delim => break,
                        Some(l) => value.push(l),
                        None => return Err(format!("no closing {delim} for {name}")),
                    }
                }
                out.insert(name.to_string(), value.join("\n"));
            } else if let Some((name, value)) = line.split_once('=') {
                out.insert(name.to_string(), value.to_string());
            } else {
                return Err(format!("line {line:?} is neither name=value nor name<<DELIMITER"));
            }
        }
        Ok(out)
    }

    /// `cargo` for a step: `cargo xtask ARGS` runs the prebuilt xtask, anything else fails.
    fn write_cargo_shim(dir: &Path) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("cargo");
        let script = format!(
            "#!/usr/bin/env bash\nif [ \"${{1:-}}\" = xtask ]; then\n  shift\n  exec '{}' \"$@\"\nfi\necho \"workflow runner: only \\`cargo xtask ...\\` runs in a workflow step, not: cargo $*\" >&2\nexit 97\n",
            env!("CARGO_BIN_EXE_xtask")
        );
        std::fs::write(&path, script).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
    }

    /// `bash` in `clone` with a runner's clean environment: PATH starts with `shim`, LZ_ROOT
    /// is the clone.
    fn base_command(clone: &Path, shim: &Path) -> Command {
        let mut cmd = Command::new("bash");
        cmd.current_dir(clone).env_clear();
        for (k, v) in std::env::vars_os() {
            let name = k.to_string_lossy();
            if INHERITED.contains(&name.as_ref()) || name.starts_with("PYENV_") {
                cmd.env(&k, v);
            }
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![shim.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).unwrap()).env("LZ_ROOT", clone).env("CI", "true");
        cmd
    }

    /// `cargo xtask ARGS` run directly (the out-of-band steps a person does), with the same
    /// clean environment as a step plus `extra`.
    pub fn xtask(clone: &Path, args: &[&str], extra: &[(&str, &str)]) -> Result<String, String> {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        write_cargo_shim(scratch.path())?;
        let mut cmd = base_command(clone, scratch.path());
        let line = format!("cargo xtask {}", args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" "));
        cmd.args(["-e", "-o", "pipefail", "-c", &line]).envs(extra.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "{line} in {} failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
                clone.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(stdout)
    }

    fn shell_quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

// ---------------------------------------------------------------------------------------------
// Fresh clones

/// The tools a job's clone gets, as symlinks to the bootstrapped ones of the repository the
/// test runs from (`lz_platform::tools`): the Terraform shim and venv, LocalStack's venv,
/// Terraform's CLI config and plugin cache. Nothing else: no evidence, no releases.
const TOOL_LINKS: &[&str] = &["bin", "terraform-venv", "localstack-venv", "terraformrc", "plugin-cache"];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=workflow-test", "-c", "user.email=workflow-test@example.invalid", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    assert!(out.status.success(), "git {args:?} in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare origin holding one commit of the repository's files as they are on disk (tracked and
/// untracked-but-not-ignored, so the test runs what a developer has), and clones of it.
struct Origin {
    dir: tempfile::TempDir,
}

impl Origin {
    fn from_working_tree() -> Origin {
        let root = root();
        // The tools must exist before clones link to them.
        lz_platform::tools::terraform(&root).expect("bootstrapping Terraform into .tools");
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        let listed = git(&root, &["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
        let mut copied = Vec::new();
        for rel in listed.split('\0').filter(|p| !p.is_empty()) {
            let src = root.join(rel);
            let Ok(meta) = std::fs::symlink_metadata(&src) else { continue };
            let dst = seed.join(rel);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            if meta.file_type().is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
            } else if meta.is_file() {
                std::fs::copy(&src, &dst).unwrap();
            } else {
                continue;
            }
            copied.push(rel.to_string());
        }
        git(&seed, &["init", "-q"]);
        std::fs::write(dir.path().join("paths"), copied.join("\0")).unwrap();
        let list = dir.path().join("paths").to_string_lossy().into_owned();
        git(&seed, &["add", "-f", &format!("--pathspec-from-file={list}"), "--pathspec-file-nul"]);
        git(&seed, &["commit", "-q", "-m", "the repository as on disk"]);
        git(dir.path(), &["clone", "-q", "--bare", "seed", "origin.git"]);
        Origin { dir }
    }

    fn url(&self) -> PathBuf {
        self.dir.path().join("origin.git")
    }

    /// `git clone origin NAME` plus `.tools/` holding only the tool symlinks.
    fn clone(&self, name: &str) -> PathBuf {
        let root = root();
        let dir = self.dir.path().join(name);
        assert!(!dir.exists(), "clone {name} exists already: every job gets a fresh one");
        git(self.dir.path(), &["clone", "-q", &self.url().to_string_lossy(), name]);
        let tools = dir.join(".tools");
        assert!(!tools.exists(), "a fresh clone has no .tools");
        std::fs::create_dir_all(&tools).unwrap();
        for link in TOOL_LINKS {
            let target = root.join(".tools").join(link);
            if target.exists() {
                std::os::unix::fs::symlink(&target, tools.join(link)).unwrap();
            }
        }
        for entry in std::fs::read_dir(&tools).unwrap() {
            let entry = entry.unwrap();
            assert!(entry.file_type().unwrap().is_symlink(), "{} in a fresh clone", entry.path().display());
        }
        dir
    }

    /// Commits the clone's working tree and pushes it to the origin.
    fn push(&self, clone: &Path, message: &str) {
        git(clone, &["add", "-A"]);
        git(clone, &["commit", "-q", "-m", message]);
        git(clone, &["push", "-q", "origin", "HEAD:main"]);
    }
}

fn localstack_up() {
    let root = root();
    match lz_platform::localstack::up(&root) {
        Ok(_) => {}
        Err(e) => panic!("LocalStack is needed by this test and cannot start: {e:#}"),
    }
    lz_platform::localstack::require(&root).unwrap_or_else(|e| panic!("{e:#}"));
}

fn xtask(clone: &Path, args: &[&str]) -> String {
    runner::xtask(clone, args, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// `ok: N records verified ...` of `evidence verify`.
fn verified_records(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.strip_prefix("ok: ").and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("evidence verify printed no `ok: N records`:\n{out}"))
}

/// The chain of custody `evidence query --release D --json` answers: the release record by
/// alice, then per environment in order the governance pin, the approvals, the policy
/// evaluation by `signers(env).1`, a successful deployment by `signers(env).0` and `drift_checks`
/// clean drift checks by it.
fn assert_chain_of_custody(json: &str, release: &str, drift_checks: usize, signers: &dyn Fn(&str) -> (String, String)) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("query --json: {e}\n{json}"));
    assert_eq!(v["release"].as_str(), Some(release), "{json}");
    let envs: Vec<(String, serde_json::Value)> = v["environments"]
        .as_array()
        .unwrap_or_else(|| panic!("no environments in\n{json}"))
        .iter()
        .map(|e| (e[0].as_str().unwrap().to_string(), e[1].clone()))
        .collect();
    let by = |records: &serde_json::Value| -> Vec<String> {
        records.as_array().map(|a| a.iter().filter_map(|r| r["identity"].as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let authors: Vec<String> = envs.iter().flat_map(|(_, c)| by(&c["releases"])).collect();
    assert_eq!(authors, ["alice"], "the release record, signed by its author\n{json}");
    let order: Vec<&str> = envs.iter().map(|(e, _)| e.as_str()).filter(|e| ENVS.contains(e)).collect();
    assert_eq!(order, ENVS, "a custody entry per environment, in promotion order\n{json}");
    for (env, c) in envs.iter().filter(|(e, _)| ENVS.contains(&e.as_str())) {
        assert_eq!(by(&c["governance"]), ["bob"], "{env}: governance pinned by bob\n{json}");
        let mut approvals = by(&c["approvals"]);
        approvals.sort();
        assert_eq!(approvals, approvers(env), "{env}: the approvals of a high-tier change\n{json}");
        let (bot, policy) = signers(env);
        assert_eq!(by(&c["policy_evaluations"]), [policy], "{env}: the policy evaluation\n{json}");
        assert_eq!(c["policy_evaluations"][0]["details"]["passed"], true, "{env}: policy passed\n{json}");
        let deployments = by(&c["deployments"]);
        assert!(!deployments.is_empty() && deployments.iter().all(|d| *d == bot), "{env}: deployed by {bot}\n{json}");
        let last = c["deployments"].as_array().unwrap().last().unwrap();
        assert_eq!(last["details"]["outcome"], "succeeded", "{env}: the deployment succeeded\n{json}");
        assert_eq!(by(&c["drift_checks"]), vec![bot; drift_checks], "{env}: the drift checks\n{json}");
        for check in c["drift_checks"].as_array().unwrap() {
            assert_eq!(check["details"]["drifted"], false, "{env}: no drift\n{json}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Against LocalStack

#[test]
fn rehearsal_job_runs_dev_to_prod() {
    let _serial = LOCALSTACK.lock().unwrap_or_else(|e| e.into_inner());
    localstack_up();
    let wf = workflow("rehearsal.yml");
    let origin = Origin::from_working_tree();
    let clone = origin.clone("rehearsal");
    let sha = git(&clone, &["rev-parse", "HEAD"]).trim().to_string();
    let ctx = Context::default().with("github.run_id", "1101").with("github.sha", sha);
    let job = wf.job("rehearsal");
    let run = job.run(&clone, &ctx, |_| true).unwrap_or_else(|e| panic!("{e}"));
    assert!(run.skipped.len() >= 3, "checkout, toolchain and cache are skipped: {:?}", run.skipped);
    assert_eq!(run.steps.len(), job.run_steps().count(), "every run step ran");
    let release = run.outputs.get("build").and_then(|o| o.get("digest")).expect("release build wrote digest= to $GITHUB_OUTPUT").clone();
    assert!(release.len() == 64 && release.chars().all(|c| c.is_ascii_hexdigit()), "digest {release}");
    let last = run.steps.last().unwrap();
    assert_eq!(last.name, "Chain of custody");
    assert!(last.stdout.contains(&release), "the job's query answers for the release:\n{}", last.stdout);
    let query = xtask(&clone, &["evidence", "query", "--release", &release, "--json"]);
    assert_chain_of_custody(&query, &release, 1, &|env| ("deployer-bot".to_string(), format!("change-policy-{env}")));
    // The witness steps make the witnessed bound apply: the decisions' clocks say they were not
    // authenticated, agreed with the evidence store's Date and were within the skew of a
    // witnessed checkpoint.
    assert!(
        query.contains("not authenticated: plain HTTP")
            && query.contains("agrees with the Date of s3://")
            && query.contains("within 10 min of witnessed checkpoint"),
        "{query}"
    );
}

#[test]
fn train_reaches_prod_from_fresh_clones() {
    let _serial = LOCALSTACK.lock().unwrap_or_else(|e| e.into_inner());
    localstack_up();
    let train = workflow("train.yml");
    let origin = Origin::from_working_tree();
    let keys = tempfile::tempdir().unwrap();
    let key = |name: &str| keys.path().join(format!("{name}.key")).to_string_lossy().into_owned();

    // Governance: test identities and unique store names, committed so every clone has them.
    // The pipeline identities (each environment's deployer-bot-ENV and change-policy-ENV, bound
    // to it) get KMS keys in the pipeline roles' account: the jobs sign through their
    // OIDC token, with no key in their environment, each environment's job with its own key.
    let ws = origin.clone("workstation-setup");
    let setup = xtask(&ws, &["rehearsal", "setup", "--keys", &keys.path().to_string_lossy(), "--kms"]);
    for env in ENVS {
        for bot in [format!("deployer-bot-{env}"), format!("change-policy-{env}")] {
            assert!(setup.contains(&format!("{bot} signs with the KMS key arn:aws:kms:")), "{setup}");
            let line = setup.lines().find(|l| l.starts_with(&format!("{bot} signs"))).unwrap();
            assert!(line.ends_with(&format!("(for {env})")), "{bot} is bound to {env} alone: {line}");
            assert!(!Path::new(&key(&bot)).exists(), "{bot} has no key file");
        }
    }
    assert!(setup.contains("policy_identity = \"change-policy-{env}\""), "{setup}");
    // GitHub's OIDC token endpoint for the jobs with `id-token: write`, over verified TLS.
    let cert = lz_platform::localstack::tls_certificate(&root()).expect("LocalStack's TLS certificate and key");
    let issuer = lz_platform::oidc_issuer::Issuer::start(&cert, "job-request-token").unwrap();
    origin.push(&ws, "rehearsal identities and stores");

    // What an organisation does by hand, once: stores, the release, its exceptions, the pins.
    let ws = origin.clone("workstation-release");
    xtask(&ws, &["bootstrap", "--stores", "--as", "bob", "--key", &key("bob")]);
    let github_output = keys.path().join("github-output");
    std::fs::write(&github_output, "").unwrap();
    xtask(
        &ws,
        &[
            "release",
            "build",
            "--author",
            "alice",
            "--ticket",
            "CHG-1101",
            "--reason",
            "train from fresh clones",
            "--github-output",
            &github_output.to_string_lossy(),
        ],
    );
    let written = std::fs::read_to_string(&github_output).unwrap();
    let release = written
        .lines()
        .find_map(|l| l.strip_prefix("digest="))
        .unwrap_or_else(|| panic!("release build wrote no digest= line: {written:?}"))
        .to_string();
    xtask(&ws, &["release", "publish", "--release", &release, "--as", "alice", "--key", &key("alice")]);
    xtask(&ws, &["exceptions", "approve", "--release", &release, "--as", "bob", "--key", &key("bob")]);
    for env in ENVS {
        xtask(&ws, &["bootstrap", "--env", env, "--pin", &release, "--as", "bob", "--key", &key("bob")]);
    }

    // The train: approvals from a workstation, then the environment's job in a fresh clone.
    let witness = |clone: &Path| {
        xtask(clone, &["evidence", "witness", "--as", "wendy", "--key", &key("wendy")]);
    };
    // `vars.LZ_DEPLOYER` is a variable of each GitHub environment: its own deployer.
    let ctx = |env: &str| {
        Context::default()
            .with("inputs.release", release.clone())
            .with("vars.LZ_DEPLOYER", format!("deployer-bot-{env}"))
            .with("vars.LZ_AWS_PROFILE", "localstack")
            .with_oidc(&issuer.url, &issuer.bearer, &issuer.ca_file)
    };
    let jobs = train.order().unwrap();
    assert_eq!(jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ENVS, "the train's jobs run dev..prod");
    for job in jobs {
        let env = job.id.as_str();
        let ws = origin.clone(&format!("workstation-approve-{env}"));
        // The audit function's witness co-signs the chain head: decisions on the unauthenticated
        // LocalStack clock are bounded by the latest witnessed checkpoint.
        witness(&ws);
        for who in approvers(env) {
            xtask(
                &ws,
                &[
                    "approve",
                    "--release",
                    &release,
                    "--env",
                    env,
                    "--as",
                    who,
                    "--key",
                    &key(who),
                    "--reason",
                    "train rehearsal",
                    "--ticket",
                    "CHG-1101",
                ],
            );
        }
        let clone = origin.clone(&format!("train-{env}"));
        let run = job.run(&clone, &ctx(env), |_| true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.steps.len(), job.run_steps().count(), "{env}: every run step ran");
    }

    // The scheduled drift workflow, each environment of its matrix in a fresh clone.
    let drift = workflow("drift.yml");
    let doc: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&drift.file).unwrap()).unwrap();
    let matrix: Vec<&str> = doc["jobs"]["drift"]["strategy"]["matrix"]["env"].as_sequence().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(matrix, ENVS, "drift.yml checks every environment");
    for env in matrix {
        let ctx = Context::default()
            .with("matrix.env", env)
            .with("vars.LZ_DRIFT_IDENTITY", format!("deployer-bot-{env}"))
            .with("vars.LZ_AWS_PROFILE", "localstack")
            .with_oidc(&issuer.url, &issuer.bearer, &issuer.ca_file);
        let clone = origin.clone(&format!("drift-{env}"));
        witness(&clone);
        drift.job("drift").run(&clone, &ctx, |_| true).unwrap_or_else(|e| panic!("{e}"));
    }

    // The scheduled rotation workflow, each environment of its matrix in a fresh clone: every
    // secret of the deployed release's plan rotated and verified, and none overdue after.
    let rotation = workflow("rotation.yml");
    let doc: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&rotation.file).unwrap()).unwrap();
    let matrix: Vec<&str> = doc["jobs"]["rotate"]["strategy"]["matrix"]["env"].as_sequence().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(matrix, ENVS, "rotation.yml rotates in every environment");
    // From the rotations to the audit's verification, no test of another binary rotates these
    // accounts' secrets (two rotations elsewhere would make LocalStack drop the recorded versions).
    let accounts: Vec<String> = ENVS.iter().map(|e| lz_operate::promote::Target::from_tree(&root(), e, lz_platform::localstack::ENDPOINT).unwrap().account_id).collect();
    let _lease = lz_platform::localstack::lease(&accounts.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    for env in matrix {
        let ctx = Context::default()
            .with("matrix.env", env)
            .with("vars.LZ_ROTATION_IDENTITY", format!("deployer-bot-{env}"))
            .with("vars.LZ_AWS_PROFILE", "localstack")
            .with_oidc(&issuer.url, &issuer.bearer, &issuer.ca_file)
            .with("vars.LZ_ROTATION_TICKET", "CHG-ROTATION");
        let clone = origin.clone(&format!("rotation-{env}"));
        witness(&clone);
        let run = rotation.job("rotate").run(&clone, &ctx, |_| true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.steps.len(), 2, "{env}: rotate and status ran");
    }

    // Every signing step fetched the job's OIDC token (its credentials are kept per process).
    assert!(issuer.served() >= 5 + 5 + 5, "OIDC tokens handed out: {}", issuer.served());

    // A sixth clone (after the five train jobs) answers the whole chain of custody from the
    // evidence store alone.
    let audit = origin.clone("audit");
    let verified = verified_records(&xtask(&audit, &["evidence", "verify"]));
    let query = xtask(&audit, &["evidence", "query", "--release", &release, "--json"]);
    // Each environment's records are signed by that environment's own deployer and policy identity.
    assert_chain_of_custody(&query, &release, 2, &|env| (format!("deployer-bot-{env}"), format!("change-policy-{env}")));
    // Which plan produced a prod security group of the order-gateway service and a subnet, and
    // who approved it: any resource of the deployed plan, not only the canary's.
    for address in [r#"module.service["order-gateway"].aws_security_group.this"#, r#"module.network.aws_subnet.this["data-eu-west-2a"]"#] {
        let json = xtask(&audit, &["evidence", "query", "--resource", address, "--env", "prod", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
        assert_eq!((v["found"].as_bool(), v["release"].as_str(), v["plan_matches"].as_bool()), (Some(true), Some(release.as_str()), Some(true)), "{json}");
        assert_eq!(v["resource"]["address"], address);
        assert!(v["deployed"]["approvals"].as_array().is_some_and(|a| a.len() >= 2), "{json}");
        assert_eq!(v["deployed"]["policy_evaluation"]["details"]["passed"], true, "{json}");
        assert!(v["applied_under"].as_str().is_some_and(|w| w.contains("change window") || w.contains("no freeze")), "{json}");
    }
    let unknown = runner::xtask(&audit, &["evidence", "query", "--resource", "module.nope.aws_vpc.this", "--env", "prod"], &[]).expect_err("exit 1");
    assert!(unknown.contains("unknown address: module.nope.aws_vpc.this") && unknown.contains("exit status: 1"), "{unknown}");
    // The local cache is only a cache: without it, nothing is lost.
    let cache = audit.join(".tools/evidence");
    assert!(cache.is_dir(), "verify keeps a verified cache in {}", cache.display());
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(verified_records(&xtask(&audit, &["evidence", "verify"])), verified, "records after deleting .tools/evidence");
}

// ---------------------------------------------------------------------------------------------
// Offline: the rules themselves

/// Jobs exempt from the one-command rule, and why.
const EXEMPT: &[(&str, &str, &str)] = &[(
    "ci.yml",
    "provider-schema",
    "runs Terraform itself to export the real AWS provider's schema, the input `cargo xtask schema import --check` compares",
)];

/// Workflows whose actions must be pinned to a full version tag.
const PINNED: &[&str] = &["rehearsal.yml", "train.yml", "drift.yml", "rotation.yml"];

#[test]
fn every_run_step_is_one_xtask_command_and_every_uses_is_known() {
    let dir = root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["ci.yml", "drift.yml", "rehearsal.yml", "rotation.yml", "train.yml"], "the workflows (promote.yml is replaced by the train)");
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        let exempt: Vec<&str> = EXEMPT.iter().filter(|(f, _, _)| *f == name).map(|(_, j, _)| *j).collect();
        // Validate the other jobs through the runner's own parser.
        let mut checked = doc.clone();
        let jobs = checked.get_mut("jobs").and_then(|j| j.as_mapping_mut()).unwrap();
        for job in &exempt {
            assert!(jobs.remove(*job).is_some(), "{name}: exempt job {job} does not exist");
        }
        let text_checked = yaml_serde::to_string(&checked).unwrap();
        let wf = Workflow::parse(file, &text_checked).unwrap_or_else(|e| panic!("{e}"));
        assert!(!wf.jobs.is_empty(), "{name}: no job left to check");
        assert_eq!(
            doc["permissions"],
            yaml_serde::from_str::<yaml_serde::Value>("contents: read").unwrap(),
            "{name}: top-level permissions are read-only"
        );
        for job in &wf.jobs {
            for step in job.run_steps() {
                for (k, v) in &step.env {
                    if v.contains("secrets.") {
                        assert!(v.starts_with("${{ secrets.") && v.ends_with("}}") && v.matches("${{").count() == 1, "{name} {}: env {k} is a secret and nothing else", job.id);
                    }
                }
            }
        }
        if PINNED.contains(&name.as_str()) {
            for job in doc["jobs"].as_mapping().unwrap().values() {
                for step in job["steps"].as_sequence().unwrap() {
                    if let Some(uses) = step["uses"].as_str() {
                        let version = uses.split_once('@').map(|(_, v)| v).unwrap_or("");
                        let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
                        assert!(
                            parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())),
                            "{name}: {uses} is not pinned to a full version"
                        );
                    }
                }
            }
        }
    }

    // The train: one job per environment in order, in its GitHub environment, on the landing
    // zone's runners, promoting and checking drift in that environment only.
    let train = workflow("train.yml");
    let order: Vec<&str> = train.order().unwrap().iter().map(|j| j.id.as_str()).collect();
    assert_eq!(order, ENVS);
    let doc: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&train.file).unwrap()).unwrap();
    for env in ENVS {
        let job = train.job(env);
        assert_eq!(job.environment.as_deref(), Some(env));
        let raw = &doc["jobs"][env];
        assert_eq!(raw["runs-on"], yaml_serde::from_str::<yaml_serde::Value>("[self-hosted, landing-zone]").unwrap(), "{env}");
        assert_eq!(raw["permissions"], yaml_serde::from_str::<yaml_serde::Value>("{contents: read, id-token: write}").unwrap(), "{env}");
        assert!(job.step("Promote").command.contains(&format!("--to {env} ")), "{env}: {}", job.step("Promote").command);
        assert!(job.step("Drift check").command.contains(&format!("--env {env} ")), "{env}: {}", job.step("Drift check").command);
    }
}

/// Workflows the runner must refuse, as (what, step YAML, words the error names).
const REFUSED: &[(&str, &str, &str)] = &[
    ("an action that is not runner preparation", "- uses: hashicorp/setup-terraform@v3", "hashicorp/setup-terraform@v3"),
    ("a condition", "- name: always\n  if: always()\n  run: cargo xtask evidence verify", "`if`"),
    ("another shell", "- shell: sh\n  run: cargo xtask evidence verify", "`shell`"),
    ("an expression in run", "- run: cargo xtask drift --env ${{ inputs.env }} --as bot", "expression inside run"),
    ("two commands", "- run: cargo xtask evidence pull && cargo xtask evidence verify", "`&`"),
    ("two lines", "- run: |\n    cargo xtask evidence pull\n    cargo xtask evidence verify", "more than one line"),
    ("a pipe", "- run: cargo xtask evidence query --json | tee out", "`|`"),
    ("a command substitution", "- run: cargo xtask promote --release \"$(cat digest)\" --to dev --as bot", "substitution"),
    ("not xtask", "- run: terraform apply", "not one `cargo xtask"),
    ("cargo but not xtask", "- run: cargo build", "not one `cargo xtask"),
    ("an unsupported expression", "- env:\n    X: ${{ env.HOME }}\n  run: cargo xtask evidence verify", "env.HOME"),
    ("a function call", "- env:\n    X: ${{ format('{0}', github.sha) }}\n  run: cargo xtask evidence verify", "format("),
    ("a step without run or uses", "- name: nothing", "exactly one of uses and run"),
];

#[test]
fn the_runner_refuses_what_a_workflow_step_may_not_do() {
    for (what, step, names) in REFUSED {
        let steps: String = step.lines().map(|l| format!("      {l}\n")).collect();
        let text = format!("on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n{steps}");
        match Workflow::parse(Path::new("case.yml"), &text) {
            Ok(_) => panic!("{what}: accepted\n{text}"),
            Err(e) => assert!(e.contains(names) && e.contains("case.yml job job: step 1"), "{what}: {e}"),
        }
    }
    let ok = "on: push\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4.2.2\n      - run: >-\n          cargo xtask approve --release \"$RELEASE\" --env dev\n          --as bob --reason 'a reason; with a semicolon'\n";
    let wf = Workflow::parse(Path::new("ok.yml"), ok).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wf.job("job").run_steps().count(), 1);
    assert!(matches!(wf.job("job").steps[0], Step::Prepare { .. }));
}

/// A copy of the train whose dev job's promote step says `--to prod` (an edited step, with
/// prod's deployer) stops at once: the step's `LZ_ENVIRONMENT` is dev, so the command exits 2
/// before any AWS call, naming both environments (the clone is empty and no OIDC issuer runs:
/// the guard is the only thing that could answer).
#[test]
fn a_dev_job_edited_to_promote_to_prod_stops_before_any_aws_call() {
    let train = root().join(".github/workflows/train.yml");
    let text = std::fs::read_to_string(&train).unwrap();
    let step = "cargo xtask promote --release \"$RELEASE\" --to dev --as \"$DEPLOYER\"";
    assert_eq!(text.matches(step).count(), 1, "train.yml's dev promote step");
    let edited = text.replace(step, "cargo xtask promote --release \"$RELEASE\" --to prod --as \"$DEPLOYER\"");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("train.yml");
    std::fs::write(&file, &edited).unwrap();
    let ctx = Context::default()
        .with("vars.LZ_DEPLOYER", "deployer-bot-prod")
        .with("vars.LZ_AWS_PROFILE", "localstack")
        .with("inputs.release", "0".repeat(64));
    let clone = dir.path().join("clone");
    std::fs::create_dir_all(&clone).unwrap();
    let wf = Workflow::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let err = match wf.job("dev").run(&clone, &ctx, |s: &runner::RunStep| s.name == "Promote") {
        Ok(_) => panic!("the dev job promoted to prod"),
        Err(e) => e,
    };
    assert!(err.contains("step \"Promote\" failed (exit 2)"), "{err}");
    assert!(err.contains("this job acts for environment dev") && err.contains("--to prod"), "{err}");
}

/// A copy of the train with `--as "$DEPLOYER"` removed from a drift step passes the runner's
/// static rules, as it passes lint; running the step is what fails (clap: exit 2).
#[test]
fn a_drift_step_without_its_identity_fails_when_run() {
    let train = root().join(".github/workflows/train.yml");
    let text = std::fs::read_to_string(&train).unwrap();
    let step = "cargo xtask drift --env dev --as \"$DEPLOYER\"";
    assert_eq!(text.matches(step).count(), 1, "train.yml's dev drift step");
    let broken = text.replace(step, "cargo xtask drift --env dev");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("train.yml");
    std::fs::write(&file, &broken).unwrap();
    let ctx = Context::default()
        .with("vars.LZ_DEPLOYER", "deployer-bot")
        .with("vars.LZ_AWS_PROFILE", "localstack")
        .with("inputs.release", "0".repeat(64));
    let drift = |s: &runner::RunStep| s.name == "Drift check";
    let clone = dir.path().join("clone");
    std::fs::create_dir_all(&clone).unwrap();

    let wf = Workflow::load(&file).unwrap_or_else(|e| panic!("the runner's static rules accept the broken copy: {e}"));
    let err = match wf.job("dev").run(&clone, &ctx, drift) {
        Ok(_) => panic!("the drift step without --as ran"),
        Err(e) => e,
    };
    assert!(err.contains("step \"Drift check\" failed (exit 2)"), "{err}");
    assert!(err.contains("--as"), "{err}");
    assert!(err.contains("cargo xtask drift --env dev\n"), "{err}");

    // The real step gets past argument parsing (whatever LocalStack then says).
    if let Err(e) = workflow("train.yml").job("dev").run(&clone, &ctx, drift) {
        assert!(!e.contains("required arguments were not provided"), "{e}");
    }
}

/// Environment variables through which the harness takes private key material itself (not a
/// key's ARN): `LZ_SIGNING_KEY` (ed25519 for `--as`) and `LZ_POLICY_KEY` (the policy identity).
const PRIVATE_KEY_ENV: [&str; 2] = ["LZ_SIGNING_KEY", "LZ_POLICY_KEY"];

/// (workflow, variable) -> count of steps whose `env:` hands a private key: a variable of
/// [`PRIVATE_KEY_ENV`], or any variable holding a secret whose name ends in `_KEY` but not
/// `_KMS_KEY` (a KMS key's ARN is not a secret).
fn private_keys_in_env(files: &[(String, String)]) -> std::collections::BTreeMap<(String, String), usize> {
    let mut out = std::collections::BTreeMap::new();
    for (name, text) in files {
        let doc: yaml_serde::Value = yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Some(jobs) = doc["jobs"].as_mapping() else { continue };
        for job in jobs.values() {
            let envs = std::iter::once(&job["env"]).chain(job["steps"].as_sequence().into_iter().flatten().map(|s| &s["env"]));
            for env in envs {
                for (k, v) in env.as_mapping().into_iter().flatten() {
                    let (k, v) = (k.as_str().unwrap_or_default(), v.as_str().unwrap_or_default());
                    let secret_key = v.split("secrets.").nth(1).map(|s| s.trim_end_matches(|c: char| c == '}' || c.is_whitespace()));
                    let keyish = secret_key.is_some_and(|s| s.ends_with("_KEY") && !s.ends_with("_KMS_KEY"));
                    if PRIVATE_KEY_ENV.contains(&k) || keyish {
                        *out.entry((name.clone(), k.to_string())).or_default() += 1;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_workflow_hands_a_private_key_to_a_step() {
    let dir = root().join(".github/workflows");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    files.sort();
    let found = private_keys_in_env(&files);
    assert!(found.is_empty(), "steps handing a private key through env: (workflow, variable) -> steps; name the identity's kms_key in the register: {found:?}");
    // The jobs that sign without a key (every train job, drift, rotation) may ask for the OIDC
    // token the KMS path starts from, and every step of theirs names the endpoint profile it acts
    // at (the harness refuses a pipeline job's LocalStack default).
    let train: Vec<(&str, &str)> = ENVS.iter().map(|e| ("train.yml", *e)).collect();
    for (file, job) in train.into_iter().chain([("drift.yml", "drift"), ("rotation.yml", "rotate")]) {
        let wf = workflow(file);
        let job = wf.job(job);
        assert!(job.id_token, "{file} job {}: permissions id-token: write", job.id);
        for step in job.run_steps() {
            let profile = step.env.iter().find(|(k, _)| k == "LZ_AWS_PROFILE").map(|(_, v)| v.as_str());
            assert_eq!(profile, Some("${{ vars.LZ_AWS_PROFILE }}"), "{file} job {} step {:?}: env LZ_AWS_PROFILE", job.id, step.name);
            // The job's token is exchanged for its own environment's pipeline role (one per
            // environment): each step names the environment the job runs in.
            let named = step.env.iter().find(|(k, _)| k == "LZ_ENVIRONMENT").map(|(_, v)| v.as_str());
            let expected = match job.environment.as_deref() {
                Some("${{ matrix.env }}") => "${{ matrix.env }}",
                Some(env) => env,
                None => panic!("{file} job {}: no GitHub environment", job.id),
            };
            assert_eq!(named, Some(expected), "{file} job {} step {:?}: env LZ_ENVIRONMENT", job.id, step.name);
        }
    }
    // The guard sees what it looks for: a job-level key, a renamed variable holding a key secret.
    let case = "on: push\njobs:\n  j:\n    env:\n      LZ_SIGNING_KEY: ${{ secrets.X }}\n    steps:\n      - env:\n          K: ${{ secrets.DEPLOY_KEY }}\n          A: ${{ vars.LZ_DEPLOYER_KMS_KEY }}\n          B: ${{ secrets.LZ_DEPLOYER_KMS_KEY }}\n        run: cargo xtask evidence verify\n";
    let got = private_keys_in_env(&[("case.yml".into(), case.into())]);
    assert_eq!(got.keys().map(|(_, k)| k.as_str()).collect::<Vec<_>>(), ["K", "LZ_SIGNING_KEY"], "{got:?}");
}
