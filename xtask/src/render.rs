//! `cargo xtask render DIR`: offline plan JSON of a configuration directory, and the renderer
//! benchmark against real Terraform.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

#[derive(clap::Args)]
pub struct Args {
    /// Root module directory
    #[arg(required_unless_present = "functions")]
    dir: Option<PathBuf>,
    /// List every Terraform built-in function with the renderer's status instead of rendering
    #[arg(long, conflicts_with_all = ["var_files", "vars", "normalized"])]
    functions: bool,
    /// Variable files applied after terraform.tfvars and *.auto.tfvars, in order
    #[arg(long = "var-file")]
    var_files: Vec<PathBuf>,
    /// NAME=VALUE assignments applied last
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Print the normalized form used for comparisons
    #[arg(long)]
    normalized: bool,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    if args.functions {
        let list = tfrender::function_status();
        let width = list.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, status, why) in &list {
            out.push_str(&format!("{name:width$}  {status}"));
            if let Some(why) = why {
                out.push_str(&format!(": {why}"));
            }
            out.push('\n');
        }
        let done = list.iter().filter(|(_, s, _)| s.starts_with("implemented")).count();
        out.push_str(&format!("{done} of {} Terraform 1.15 functions implemented", list.len()));
        print_stdout(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(dir) = args.dir else {
        bail!("a root module directory is required");
    };
    let mut opts = lz_schema::render_options(root, args.var_files)?;
    for v in &args.vars {
        let Some((k, val)) = v.split_once('=') else {
            bail!("invalid --var {v:?}: expected NAME=VALUE");
        };
        opts.vars.push((k.to_string(), val.to_string()));
    }
    let plan = tfrender::render_dir(&dir, &opts)?;
    let plan = if args.normalized { tfrender::normalize(&plan) } else { plan };
    print_stdout(&serde_json::to_string_pretty(&plan)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Goals of `bench render` (release build, idle 2-core machine).
const GOAL_ENVS_MS: f64 = 100.0;
const GOAL_RATIO: f64 = 150.0;
const GOAL_SCALE_COPIES: usize = 10_000;
const GOAL_SCALE_SECS: f64 = 2.0;

fn load() -> String {
    format!("load average {}", lz_baseline::props::load_average())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

pub fn bench(root: &Path) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        println!("note: this is a debug build (LZ_BENCH_DEBUG); figures below are pessimistic.");
    }
    println!("{} before the first figure", load());
    let runs = 7;
    let envs = lz_repo::env::present(root).unwrap_or_default();
    if envs.is_empty() {
        println!("render environments: no environments under environments/ yet");
    } else {
        // One run = what a command rendering every environment does: load the configuration
        // once (a fresh cache per run), then render each overlay.
        let mut times = Vec::new();
        let mut fresh = Vec::new();
        let mut resources = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let cache = tfrender::RenderCache::new();
            resources = 0;
            for env in &envs {
                let plan = crate::plan::render_env_cached(&cache, root, env)?;
                resources += plan["resource_changes"].as_array().map_or(0, Vec::len);
            }
            times.push(t.elapsed());
            let t = Instant::now();
            for env in &envs {
                crate::plan::render_env_fresh(root, env)?;
            }
            fresh.push(t.elapsed());
        }
        let m = median(&mut times);
        println!(
            "render {} environments ({} resource instances), configuration parsed once: median {} over {runs} runs (goal: < {GOAL_ENVS_MS} ms: {}; {})",
            envs.len(),
            resources,
            fmt(m),
            verdict(m.as_secs_f64() * 1e3 < GOAL_ENVS_MS),
            load()
        );
        println!("  each environment parsed afresh: median {} ({})", fmt(median(&mut fresh)), load());
    }

    let tmp = tempdir("tfrender-bench")?;
    let n = 200;
    let fixture = tmp.join("fixture");
    write_fixture(&fixture, n)?;
    let mut ours = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        tfrender::render_dir(&fixture, &Default::default())?;
        ours.push(t.elapsed());
    }
    let ours = median(&mut ours);
    println!("offline render of a {n}-resource provider-free fixture (parse included): median {} ({})", fmt(ours), load());
    match terraform_plan_time(root, &fixture) {
        Ok(tf) => {
            let ratio = tf.as_secs_f64() / ours.as_secs_f64().max(1e-9);
            println!(
                "terraform init+plan+show of the same fixture: {} (offline renderer is {ratio:.0}x faster; goal: >= {GOAL_RATIO:.0}x: {}; {})",
                fmt(tf),
                verdict(ratio >= GOAL_RATIO),
                load()
            )
        }
        Err(e) => println!("terraform init+plan+show: not measured ({e:#})"),
    }

    println!("scaling: N copies of a service landing zone module (parse included)");
    let mut prev: Option<(usize, Duration)> = None;
    for copies in [1usize, 10, 100, 1000, GOAL_SCALE_COPIES] {
        let dir = tmp.join(format!("scale-{copies}"));
        write_scaled(&dir, copies)?;
        let mut ts = Vec::new();
        let reps = if copies >= 1000 { 3 } else { 5 };
        for _ in 0..reps {
            let t = Instant::now();
            tfrender::render_dir(&dir, &Default::default())?;
            ts.push(t.elapsed());
        }
        let m = median(&mut ts);
        let per = m.as_secs_f64() / copies as f64;
        let growth = prev.map(|(pc, pt)| format!(" (x{:.1} time for x{} copies)", m.as_secs_f64() / pt.as_secs_f64().max(1e-9), copies / pc)).unwrap_or_default();
        let goal = if copies == GOAL_SCALE_COPIES {
            format!("; goal: < {GOAL_SCALE_SECS} s: {}", verdict(m.as_secs_f64() < GOAL_SCALE_SECS))
        } else {
            String::new()
        };
        println!("  N={copies:>5}: {} total, {:.3} ms per copy{growth}{goal} ({})", fmt(m), per * 1e3, load());
        prev = Some((copies, m));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    crate::bench::print_peak();
    Ok(ExitCode::SUCCESS)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fmt(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn tempdir(prefix: &str) -> anyhow::Result<PathBuf> {
    let p = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
    Ok(p)
}

fn write_fixture(dir: &Path, n: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = format!(
        r#"variable "env" {{
  type    = string
  default = "prod"
}}
locals {{
  names = [for i in range({n}) : format("svc-%03d", i)]
  tags  = {{ env = var.env, owner = upper("platform"), cost = join("-", ["a", var.env]) }}
}}
resource "terraform_data" "svc" {{
  for_each = toset(local.names)
  input = {{
    name = each.key
    tags = merge(local.tags, {{ name = each.key }})
    hash = sha256(each.key)
    cidr = cidrsubnet("10.0.0.0/8", 16, index(local.names, each.key))
  }}
}}
output "count" {{ value = length(terraform_data.svc) }}
"#
    );
    std::fs::write(dir.join("main.tf"), text)?;
    Ok(())
}

/// A root calling a service landing zone module N times with for_each.
fn write_scaled(dir: &Path, copies: usize) -> anyhow::Result<()> {
    let m = dir.join("modules/service");
    std::fs::create_dir_all(&m)?;
    std::fs::write(
        m.join("main.tf"),
        r#"variable "name" { type = string }
variable "index" { type = number }
variable "settings" {
  type = object({
    retention_days = optional(number, 30)
    tags           = optional(map(string), {})
  })
  default = {}
}
locals {
  prefix = "lz-${var.name}"
  tags   = merge({ service = var.name, managed_by = "landing-zone" }, var.settings.tags)
}
resource "aws_kms_key" "this" {
  description         = "${local.prefix} key"
  enable_key_rotation = true
  tags                = local.tags
}
resource "aws_s3_bucket" "logs" {
  bucket = "${local.prefix}-logs"
  tags   = local.tags
}
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}
resource "aws_cloudwatch_log_group" "app" {
  name              = "/lz/${var.name}"
  retention_in_days = var.settings.retention_days
  kms_key_id        = aws_kms_key.this.arn
}
resource "terraform_data" "network" {
  input = { cidr = cidrsubnet("10.0.0.0/8", 16, var.index), name = local.prefix }
}
output "key_arn" { value = aws_kms_key.this.arn }
"#,
    )?;
    // Terraform's range() stops at 1,024 values: thousands of copies are built from blocks.
    let services = if copies <= 1000 {
        format!(r#"{{ for i in range({copies}) : format("svc%04d", i) => i }}"#)
    } else {
        format!(
            r#"merge([for h in range({}) : {{ for j in range(1000) : format("svc%05d", h * 1000 + j) => h * 1000 + j if h * 1000 + j < {copies} }}]...)"#,
            copies.div_ceil(1000)
        )
    };
    let text = format!(
        r#"locals {{
  services = {services}
}}
module "service" {{
  source   = "./modules/service"
  for_each = local.services
  name     = each.key
  index    = each.value
  settings = {{ tags = {{ tier = "gold" }} }}
}}
"#
    );
    let _ = copies;
    std::fs::write(dir.join("main.tf"), text)?;
    Ok(())
}

fn terraform_plan_time(root: &Path, dir: &Path) -> anyhow::Result<Duration> {
    let work = dir.with_file_name("tf-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::copy(dir.join("main.tf"), work.join("main.tf"))?;
    let t = Instant::now();
    crate::plan::terraform_show(root, &work, &[])?;
    Ok(t.elapsed())
}

/// Print to stdout; a closed pipe (`| head`) ends output quietly instead of panicking.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
