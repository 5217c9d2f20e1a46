//! `cargo xtask classify`: the risk tier of a release for an environment, per resource with the
//! rule that decided it, and every gate of its promotion, as `promote --dry-run` shows them. The
//! release's plan (rendered from its archive) is compared with the plan of the environment's last
//! deployment, under the environment's governance.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use lz_operate::promote::Target;
use lz_promote::Session;

use crate::format::Format;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  cargo xtask classify --release 9c1d2e7a --env test\n  cargo xtask classify --release 9c1d2e7a --env prod --as deployer-bot --format json")]
pub struct Args {
    /// Release digest (or unique prefix)
    #[arg(long, value_parser = lz_input::ids::release)]
    release: String,
    /// Environment the release would go to
    #[arg(long, value_parser = lz_input::ids::environment)]
    env: String,
    /// The deployer to judge segregation of duties for (optional; without it that gate is not
    /// checked)
    #[arg(long = "as", value_parser = lz_input::ids::identity)]
    identity: Option<String>,
    /// A table for people, or JSON for bots (the same document as `promote --dry-run`)
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let crate::context::LandingZone { paths, endpoint } = crate::context::LandingZone::open(root)?;
    let session = Session::open(&paths, &args.release, &args.env)?;
    let t = Target::from_tree(session.release.root(), &args.env, &endpoint)?;
    show(&session, args.identity.as_deref(), &t, &endpoint, args.format, false)
}

/// Every gate of promoting the session's release into `t` by `deployer`, judged at the
/// environment's clock with nothing recorded. `refusal_exits_1`: `promote --dry-run` exits 1
/// when the promotion would be refused (2 when a gate could not be judged); `classify` reports
/// and exits 0.
pub(crate) fn show(
    session: &Session,
    deployer: Option<&str>,
    t: &Target,
    endpoint: &str,
    format: Format,
    refusal_exits_1: bool,
) -> Result<ExitCode> {
    let place = lz_operate::facts::Place::of_target(t.clone());
    let previous = match lz_promote::session::previous_environment(&t.environment)? {
        Some(p) => Some(lz_operate::facts::Place::of_target(Target::from_tree(session.release.root(), p, endpoint)?)),
        None => None,
    };
    let facts = |s: &Session| lz_operate::facts::gate(&s.paths, &s.records, s.digest(), &place, previous.as_ref());
    let g = lz_promote::gates::dry_run(session, deployer, &t.clock(), Some(&facts))?;
    // Approval classes (issue 31): per class still missing, who may approve and who is on call
    // now (the environment's clock, bounded).
    // A failure here (a resource routed to no class, a clock that cannot be bounded) is
    // already the approvals gate's refusal: shown, never turned into another exit code.
    let classes = t.clock().now().and_then(|reading| lz_promote::classes::quorum::missing_now(session, &reading));
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&g)?;
            v["approval_classes"] = match &classes {
                Ok((c, _)) => serde_json::to_value(c)?,
                Err(e) => serde_json::json!({ "error": format!("{e:#}") }),
            };
            println!("{}", serde_json::to_string_pretty(&v)?)
        }
        Format::Text => {
            print!("{}", g.render_text(!refusal_exits_1));
            match &classes {
                Ok((c, now)) if !c.is_empty() => {
                    println!("approval classes missing at {} ({}):", lz_promote::window::rfc3339(now.time), now.source);
                    print!("{}", lz_promote::classes::render_missing(c));
                }
                Ok(_) => {}
                Err(e) => println!("approval classes: not judged: {e:#}"),
            }
        }
    }
    Ok(if refusal_exits_1 { ExitCode::from(g.exit_code()) } else { ExitCode::SUCCESS })
}
