//! HTML rendering of reports with minijinja (autoescaped templates compiled into the binary).

use anyhow::{Context, Result};
use minijinja::Environment;

use super::Report;

const STYLE: &str = include_str!("style.css");
// Macros are prepended to each page (templates do not import each other).
const REPORT: &str = concat!(include_str!("macros.html.j2"), include_str!("report.html.j2"));
const EXCEPTIONS: &str = concat!(include_str!("macros.html.j2"), include_str!("exceptions.html.j2"));

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    // Names ending in .html are autoescaped.
    env.add_template("report.html", REPORT).context("template report.html")?;
    env.add_template("exceptions.html", EXCEPTIONS).context("template exceptions.html")?;
    env.add_global("style", STYLE);
    Ok(env)
}

fn render_template(name: &str, ctx: minijinja::Value) -> Result<String> {
    let env = environment()?;
    let t = env.get_template(name).with_context(|| format!("template {name}"))?;
    t.render(ctx).map_err(|e| anyhow::anyhow!("rendering {name}: {e:#}"))
}

/// The report as one self-contained HTML page.
pub fn render(report: &Report) -> Result<String> {
    render_template("report.html", minijinja::Value::from(minijinja::value::Serde(report)))
}

/// The exceptions export as one self-contained HTML page.
pub(crate) fn render_exceptions(export: &impl serde::Serialize) -> Result<String> {
    render_template("exceptions.html", minijinja::Value::from(minijinja::value::Serde(export)))
}
