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

pub fn bench(root: &Path) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        println!("note: this is a debug build; figures below are pessimistic.");
        println!("      For release figures run: cargo run --release -p xtask -- bench render");
    }
    let runs = 7;
    let envs = crate::plan::environments(root);
    if envs.is_empty() {
        println!("render environments: no environments under environments/ yet");
    } else {
        let mut times = Vec::new();
        let mut resources = 0;
        for _ in 0..runs {
            let t = Instant::now();
            resources = 0;
            for env in &envs {
                let plan = crate::plan::render_env(root, env)?;
                resources += plan["resource_changes"].as_array().map_or(0, Vec::len);
            }
            times.push(t.elapsed());
        }
        println!(
            "render {} environments ({} resource instances): median {} over {runs} runs",
            envs.len(),
            resources,
            fmt(median(&mut times))
        );
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
    println!("offline render of a {n}-resource provider-free fixture: median {}", fmt(ours));
    match terraform_plan_time(&fixture) {
        Ok(tf) => println!(
            "terraform init+plan+show of the same fixture: {} (offline renderer is {:.0}x faster)",
            fmt(tf),
            tf.as_secs_f64() / ours.as_secs_f64().max(1e-9)
        ),
        Err(e) => println!("terraform init+plan+show: not measured ({e:#})"),
    }

    println!("scaling: N copies of a service landing zone module");
    let mut prev: Option<(usize, Duration)> = None;
    for copies in [1usize, 10, 100, 1000] {
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
        println!("  N={copies:>5}: {} total, {:.3} ms per copy{growth}", fmt(m), per * 1e3);
        prev = Some((copies, m));
    }
    let _ = std::fs::remove_dir_all(&tmp);
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
  input = { cidr = cidrsubnet("10.0.0.0/8", 12, var.index), name = local.prefix }
}
output "key_arn" { value = aws_kms_key.this.arn }
"#,
    )?;
    let text = format!(
        r#"locals {{
  services = {{ for i in range({copies}) : format("svc%04d", i) => i }}
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

fn terraform_plan_time(dir: &Path) -> anyhow::Result<Duration> {
    let work = dir.with_file_name("tf-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::copy(dir.join("main.tf"), work.join("main.tf"))?;
    let cli_config = work.join("empty.tfrc");
    std::fs::write(&cli_config, "")?;
    let t = Instant::now();
    crate::plan::terraform_show(&work, &cli_config, &[])?;
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
