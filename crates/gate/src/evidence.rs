//! The gate's evidence-backed checks (issue 27): overdue break-glass retrospectives and overdue
//! secret rotations, read from the landing zone's evidence store (verified) when it is
//! reachable, never from a local cache a CI runner does not have. Where no store answers,
//! each check is NOT CHECKED, with the reason: `cargo xtask check --require-evidence` fails
//! on that, plain `check` says so; neither is a silent ok.
//!
//! Rotation is judged exactly as `cargo xtask rotation status` judges it
//! ([`lz_operate::rotate::status_of`]: each secret by its own last verified rotation, checked
//! against Secrets Manager), at the same time source (the STS `Date` of the endpoint), so the
//! two agree by construction.

use std::path::Path;

use anyhow::Result;
use time::OffsetDateTime;

/// What an evidence-backed check found.
#[derive(Debug)]
pub enum Checked {
    Findings(lz_platform::Findings),
    /// Not checked, and why (no evidence store answered).
    NotChecked(String),
}

/// The names of the evidence-backed steps, in the gate's order.
pub const BREAK_GLASS: &str = "break-glass retrospectives";
pub const ROTATION: &str = "secret rotation (overdue)";

/// Why the landing zone's store was not judged: nothing to judge (no endpoint, no store, nothing
/// bootstrapped), or a store that answers but fails (verification, a refusal): the latter is a
/// finding of each step, never "not checked".
pub enum Unreached {
    Absent(String),
    Failed(String),
}

/// A store that answered and failed: a verification failure, or a refusal (of the evidence
/// crate, or change control's refusal to read a chain that fails verification).
fn judged(e: &anyhow::Error) -> bool {
    lz_evidence::failure_of(e).is_some() || e.chain().any(|c| c.is::<lz_evidence::Refused>() || c.is::<lz_promote::refusal::Refusal>())
}

/// The landing zone's evidence store at the LocalStack endpoint, if it answers and verifies:
/// its paths and endpoint, or why not.
pub fn reach(root: &Path) -> std::result::Result<(lz_promote::Paths, String), Unreached> {
    let endpoint = lz_platform::localstack::ENDPOINT;
    if let Err(e) = lz_platform::localstack::probe(endpoint) {
        return Err(Unreached::Absent(format!("nothing serves the landing zone's endpoint {endpoint}: {e}")));
    }
    let paths = lz_promote::Paths::landing_zone(root, endpoint).map_err(|e| Unreached::Absent(format!("{e:#}")))?;
    let stores = match &paths.evidence {
        lz_promote::ledger::EvidenceAt::S3(s) => s.clone(),
        lz_promote::ledger::EvidenceAt::Local(_) => return Err(Unreached::Absent("the landing zone's evidence is not an S3 store".into())),
    };
    let failed = |e: anyhow::Error| {
        // One line: the outermost cause (the SDK's own dump stays out of the gate's output).
        let why = format!("the evidence store s3://{} at {endpoint}: {e}", stores.evidence_bucket);
        if judged(&e) {
            Unreached::Failed(why)
        } else {
            Unreached::Absent(why)
        }
    };
    let ledger = paths.ledger().map_err(failed)?;
    match ledger.records() {
        Ok(records) if records.is_empty() => {
            Err(Unreached::Absent(format!("the evidence store s3://{} at {endpoint} holds no record (not bootstrapped)", stores.evidence_bucket)))
        }
        Ok(_) => Ok((paths, endpoint.to_string())),
        Err(e) => Err(failed(e)),
    }
}

/// Both checks, against the landing zone's store when [`reach`] finds it.
pub fn checks(root: &Path) -> Result<Vec<(&'static str, Checked)>> {
    match reach(root) {
        Ok((paths, endpoint)) => {
            let stores = match &paths.evidence {
                lz_promote::ledger::EvidenceAt::S3(s) => s.clone(),
                lz_promote::ledger::EvidenceAt::Local(_) => unreachable!("reach returns S3 stores"),
            };
            let judged = lz_promote::clock::Clock::server(&endpoint, &stores.account_id, &stores.region).now().and_then(|now| checks_of(&paths, &endpoint, now.time));
            match judged {
                Ok(steps) => Ok(steps.into_iter().map(|(n, f)| (n, Checked::Findings(f))).collect()),
                // The store answers but could not be judged: a finding of each step, never ok.
                Err(e) => Ok([BREAK_GLASS, ROTATION]
                    .into_iter()
                    .map(|n| {
                        let mut f = lz_platform::Findings::default();
                        f.push("evidence", Some(std::path::PathBuf::from(paths.evidence.describe())), None, format!("not checked: {e:#}"));
                        (n, Checked::Findings(f))
                    })
                    .collect()),
            }
        }
        Err(Unreached::Failed(why)) => Ok([BREAK_GLASS, ROTATION]
            .into_iter()
            .map(|n| {
                let mut f = lz_platform::Findings::default();
                f.push("evidence", None, None, format!("not judged: {why}"));
                (n, Checked::Findings(f))
            })
            .collect()),
        Err(Unreached::Absent(why)) => Ok(vec![(BREAK_GLASS, Checked::NotChecked(why.clone())), (ROTATION, Checked::NotChecked(why))]),
    }
}

/// Both checks against the chain at `paths` (services at `endpoint`) at `now`.
pub fn checks_of(paths: &lz_promote::Paths, endpoint: &str, now: OffsetDateTime) -> Result<Vec<(&'static str, lz_platform::Findings)>> {
    let at = std::path::PathBuf::from(paths.evidence.describe());
    let records = lz_promote::replay::admitted(paths)?;
    let mut bg = lz_platform::Findings::default();
    for m in lz_promote::breakglass::overdue(&records, now) {
        bg.push("break-glass", Some(at.clone()), None, m);
    }
    let mut rot = lz_platform::Findings::default();
    for row in lz_operate::rotate::status_of(paths, &lz_platform::ENVIRONMENTS, now, endpoint)? {
        if let Some(m) = overdue_message(&row) {
            rot.push("rotation", Some(at.clone()), None, m);
        }
    }
    Ok(vec![(BREAK_GLASS, bg), (ROTATION, rot)])
}

/// The finding for an overdue or contradicted row, with the command that resolves it (every
/// required flag included); `None` for a row in order.
pub fn overdue_message(st: &lz_promote::rotation::Status) -> Option<String> {
    let (env, secret) = (&st.environment, &st.secret);
    let fix = format!("run `cargo xtask rotate --env {env} --secret {secret} --as ID --key FILE` (ID: an identity with the deployer role)");
    if !st.contradicted.is_empty() {
        return Some(format!("{env}: {secret}: its rotation evidence is contradicted by Secrets Manager ({}); {fix}", st.contradicted.join("; ")));
    }
    if !st.overdue {
        return None;
    }
    Some(match &st.last_rotation {
        Some(t) => format!(
            "{env}: {secret} is overdue: last verified rotation {t} (record {}), due {}; {fix}",
            st.record.unwrap_or_default(),
            st.due.clone().unwrap_or_default()
        ),
        None => format!("{env}: {secret} has no verified rotation and was due {}; {fix}", st.due.clone().unwrap_or_default()),
    })
}
