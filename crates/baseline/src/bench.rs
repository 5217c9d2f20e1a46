//! `cargo xtask bench render`, beside the code it measures: the offline render of every
//! environment (configuration parsed once, and afresh), a provider-free fixture against real
//! Terraform, and the scaling of N copies of a service module. The figures are lines handed to
//! the caller, which prints them.
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

/// Goals of `bench render` (release build, idle 2-core machine).
const GOAL_ENVS_MS: f64 = 100.0;
const GOAL_RATIO: f64 = 150.0;
const GOAL_SCALE_COPIES: usize = 10_000;
const GOAL_SCALE_SECS: f64 = 2.0;

fn load() -> String {
    format!("load average {}", crate::props::load_average())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// `bench render`: each figure is a line handed to `out` as soon as it is measured. `terraform`
/// runs `terraform init`, `plan` and `show` in the directory it is given (the comparison with
/// real Terraform; its error is printed as "not measured").
pub fn render(root: &Path, terraform: &dyn Fn(&Path) -> Result<()>, out: &mut dyn FnMut(&str)) -> Result<()> {
    out(&format!("{} before the first figure", load()));
    let runs = 7;
    let envs = lz_repo::env::present(root).unwrap_or_default();
    if envs.is_empty() {
        out("render environments: no environments under environments/ yet");
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
                let plan = crate::snapshot::render_env_cached(&cache, root, env)?;
                resources += plan["resource_changes"].as_array().map_or(0, Vec::len);
            }
            times.push(t.elapsed());
            let t = Instant::now();
            for env in &envs {
                crate::snapshot::render_env(root, env)?;
            }
            fresh.push(t.elapsed());
        }
        let m = median(&mut times);
        out(&format!(
            "render {} environments ({} resource instances), configuration parsed once: median {} over {runs} runs (goal: < {GOAL_ENVS_MS} ms: {}; {})",
            envs.len(),
            resources,
            fmt(m),
            verdict(m.as_secs_f64() * 1e3 < GOAL_ENVS_MS),
            load()
        ));
        out(&format!("  each environment parsed afresh: median {} ({})", fmt(median(&mut fresh)), load()));
    }

    let tmp = tempfile::Builder::new().prefix("tfrender-bench").tempdir()?;
    let tmp = tmp.path();
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
    out(&format!("offline render of a {n}-resource provider-free fixture (parse included): median {} ({})", fmt(ours), load()));
    match terraform_plan_time(terraform, &fixture) {
        Ok(tf) => {
            let ratio = tf.as_secs_f64() / ours.as_secs_f64().max(1e-9);
            out(&format!(
                "terraform init+plan+show of the same fixture: {} (offline renderer is {ratio:.0}x faster; goal: >= {GOAL_RATIO:.0}x: {}; {})",
                fmt(tf),
                verdict(ratio >= GOAL_RATIO),
                load()
            ))
        }
        Err(e) => out(&format!("terraform init+plan+show: not measured ({e:#})")),
    }

    out("scaling: N copies of a service landing zone module (parse included)");
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
        out(&format!("  N={copies:>5}: {} total, {:.3} ms per copy{growth}{goal} ({})", fmt(m), per * 1e3, load()));
        prev = Some((copies, m));
    }
    Ok(())
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

fn write_fixture(dir: &Path, n: usize) -> Result<()> {
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
fn write_scaled(dir: &Path, copies: usize) -> Result<()> {
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

fn terraform_plan_time(terraform: &dyn Fn(&Path) -> Result<()>, dir: &Path) -> Result<Duration> {
    let work = dir.with_file_name("tf-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::copy(dir.join("main.tf"), work.join("main.tf"))?;
    let t = Instant::now();
    terraform(&work)?;
    Ok(t.elapsed())
}

