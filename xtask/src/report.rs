//! `cargo xtask report`: the chain of custody of a release (or of an environment over a period)
//! as one self-contained HTML page, from the verified evidence chain and release archive only;
//! exit 1 when the chain fails verification (the page says so in red).
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use lz_evidence::query::TimeRange;
use lz_evidence::verify::VerifiedCache;
use lz_report::{self as report, Options, Selection};

#[derive(clap::Args)]
pub struct Args {
    /// Release digest (or unique prefix of at least 8 hex digits)
    #[arg(long, conflicts_with_all = ["env", "since", "until"], value_parser = lz_input::ids::release)]
    release: Option<String>,
    /// Environment whose releases over a period are reported (with --since)
    #[arg(long, requires = "since", value_parser = lz_input::ids::environment)]
    env: Option<String>,
    /// Start of the period: YYYY-MM-DD or an RFC 3339 time
    #[arg(long)]
    since: Option<String>,
    /// End of the period (default: the last record)
    #[arg(long)]
    until: Option<String>,
    /// The HTML file to write
    #[arg(long)]
    out: PathBuf,
    /// Where the linked exceptions export is written (default: beside --out, `<name>.exceptions.html`)
    #[arg(long)]
    exceptions_out: Option<PathBuf>,
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    let selection = match (&args.release, &args.env) {
        (Some(r), None) => Selection::Release(r.clone()),
        (None, Some(env)) => Selection::Period {
            environment: env.clone(),
            range: TimeRange {
                since: args.since.as_deref().map(|s| crate::evidence::time_arg(s, false)).transpose()?,
                until: args.until.as_deref().map(|s| crate::evidence::time_arg(s, true)).transpose()?,
            },
        },
        _ => bail!("give --release DIGEST, or --env ENV --since DATE"),
    };
    let crate::context::LandingZone { endpoint, paths } = crate::context::LandingZone::open(root)?;
    let store = paths.evidence.open()?;
    let cache = VerifiedCache::new(&root.join(".tools/evidence/verified"), &store.describe());

    let exceptions_out = args.exceptions_out.clone().unwrap_or_else(|| args.out.with_extension("exceptions.html"));
    let link = relative_link(&args.out, &exceptions_out);
    let opts = Options { known: cache.load()?.into_iter().collect(), exceptions_link: Some(link) };
    let r = report::build(&paths, &selection, &opts)?;
    // The register the report links to: the one archived in the (last) release reported, never
    // the working tree's, judged at the landing zone's server time, with each entry's signed
    // approval from the verified chain.
    let today = lz_operate::promote::Target::from_tree(root, "dev", &endpoint)?.clock().now()?.time.date();
    if let Some(rel) = r.releases.last() {
        let export = report::exceptions::for_release(&paths, &rel.digest, today, 30)?;
        write(&exceptions_out, &report::exceptions::to_html(&export)?)?;
    }
    write(&args.out, &report::render(&r)?)?;
    if !r.verified() {
        let v = &r.verification;
        println!(
            "TAMPERED: {} (sequence {}): {} [{}]; {} shows the failure only",
            v.failure_location.as_deref().unwrap_or("?"),
            v.failure_sequence.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            v.failure.as_deref().unwrap_or("?"),
            v.failure_code.as_deref().unwrap_or("?"),
            args.out.display()
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(head) = &r.verification.head {
        cache.save(head)?;
    }
    if !r.verification.rejected.is_empty() || !r.verification.foreign.is_empty() {
        for f in &r.verification.foreign {
            println!("FOREIGN: {f}");
        }
        for (seq, why) in &r.verification.rejected {
            println!("TAMPERED: deployment record {seq} has no valid admission: {why} [replay]");
        }
        println!("{} flags them", args.out.display());
        return Ok(ExitCode::from(1));
    }
    println!(
        "wrote {}: {} release(s), {} records of custody, chain of {} records verified against {}; exceptions export {}",
        args.out.display(),
        r.releases.len(),
        r.record_count(),
        r.verification.records,
        r.verification.trust_root,
        exceptions_out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `to` as a link from the page at `from`: its file name when both are in one folder, else its
/// absolute path.
fn relative_link(from: &Path, to: &Path) -> String {
    let dir = |p: &Path| p.parent().map(|d| d.to_path_buf()).unwrap_or_default();
    if dir(from) == dir(to) {
        to.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
    } else {
        std::path::absolute(to).unwrap_or_else(|_| to.to_path_buf()).display().to_string()
    }
}
