//! `evidence verify`: an exported bundle or a store verified against a trust root, then, for
//! the landing zone's store, its retention, every deployment's admission replayed, every fact
//! checked where it lives and the local cache compared. The CLI resolves its arguments into a
//! [`Subject`] and prints the lines [`verify`] gives.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use lz_evidence::bundle::Bundle;
use lz_evidence::verify::{Anchors, KnownCheckpoint, VerifiedCache};
use lz_evidence::witness::Witnessed;
use lz_evidence::{LocalStore, Report, S3Store, Store, TrustRoot};

/// The retention subject of a store: its S3 bucket and the retention floor it must keep
/// (`None`: a local file). Opened again for each look.
pub type Retention<'a> = &'a dyn Fn() -> Result<Option<(S3Store, u32)>>;

/// What `evidence verify` checks.
pub enum Subject<'a> {
    /// An exported bundle, read from `path`, against the trust root the user gave (`None`: the
    /// bundle is refused, its own register proves nothing).
    Bundle { path: &'a Path, bundle: Bundle, given: Option<TrustRoot> },
    /// A store with this machine's cache of verified heads, its latest witnessed checkpoint and
    /// the trust root; `landing_zone`: the landing zone's store (its paths and endpoint), whose
    /// admissions, facts and local cache are checked too.
    Store {
        store: Box<dyn Store>,
        cache: VerifiedCache,
        witnessed: Vec<Witnessed>,
        trust: TrustRoot,
        landing_zone: Option<(lz_promote::Paths, String)>,
    },
}

/// A chain verified, before the checks that follow: the report, the trust root that judged it,
/// what was verified, the records that concern the release (a bundle), the cache of verified
/// heads (a store), the landing zone's paths and endpoint with the verified records' hashes, and
/// the witnessed checkpoint checked.
struct Checked {
    report: Report,
    trust: TrustRoot,
    what: String,
    focus: Option<usize>,
    cache: Option<VerifiedCache>,
    landing_zone: Option<(lz_promote::Paths, String)>,
    hashes: Vec<String>,
    witness_line: String,
}

const NO_WITNESS: &str = "no witnessed checkpoint checked (this chain has no witness store, or nothing was witnessed yet)";

/// Verifies `subject` with the checkpoints `known` from elsewhere, under the repository `root`.
/// Every line for people goes to `out` as it is found; `Ok(true)`: clean (exit 0), `Ok(false)`:
/// tampered, refused or a finding (exit 1).
pub fn verify(root: &Path, subject: Subject, known: Vec<KnownCheckpoint>, retention: Retention, out: &mut dyn FnMut(String)) -> Result<bool> {
    let start = Instant::now();
    let is_bundle = matches!(subject, Subject::Bundle { .. });
    let checked = match subject {
        Subject::Bundle { path, bundle, given } => of_bundle(path, bundle, given, known, out)?,
        Subject::Store { store, cache, witnessed, trust, landing_zone } => of_store(&*store, cache, witnessed, trust, landing_zone, known, retention, out)?,
    };
    let Some(Checked { report, trust, what, focus, cache, landing_zone, hashes, witness_line }) = checked else { return Ok(false) };
    let elapsed = start.elapsed();
    if let Some(f) = &report.failure {
        out(format!("TAMPERED: {f} [{}]", f.reason.code()));
        return Ok(false);
    }
    if let (Some(cache), Some(head)) = (&cache, &report.head) {
        cache.save(head)?;
    }
    let head = report.head.as_ref().map(|(s, h)| format!(", head sequence {s} {h}")).unwrap_or_default();
    out(format!("ok: {} records verified in {what} against {}{head} ({:.2?})", report.records, trust.describe(), elapsed));
    out(witness_line);
    // Foreign objects the chain skips: findings (exit 1), never fatal to the chain.
    for q in &report.quarantined {
        out(format!("FOREIGN: {q}"));
    }
    if let Some(n) = focus {
        out(format!("{n} records concern the release"));
    }
    if !is_bundle {
        if let Some((s3, floor)) = retention()? {
            let findings = s3.retention_findings(floor)?;
            for (place, what) in &findings {
                out(format!("RETENTION: {place}: {what}"));
            }
            if !findings.is_empty() {
                return Ok(false);
            }
            out(format!("retention: COMPLIANCE, at least the floor of {floor} days"));
        }
    }
    if let Some((paths, endpoint)) = &landing_zone {
        if !landing_zone_checks(root, paths, endpoint, &hashes, out)? {
            return Ok(false);
        }
    }
    if !report.quarantined.is_empty() {
        out(format!(
            "{} foreign object(s) quarantined: the chain skips them and appends continue (see README, For operators)",
            report.quarantined.len()
        ));
        return Ok(false);
    }
    Ok(true)
}

/// An exported bundle verified offline against the trust root given (`None`: refused, printed).
fn of_bundle(p: &Path, b: Bundle, given: Option<TrustRoot>, mut known: Vec<KnownCheckpoint>, out: &mut dyn FnMut(String)) -> Result<Option<Checked>> {
    let Some(given) = given else {
        out(format!("REFUSED: no trust root: a bundle verifies only against a register or fingerprints you supply (--trust-root FILE[@REV] or --pin FINGERPRINT); its own register snapshot ({}) proves nothing", b.identities.fingerprint()));
        return Ok(None);
    };
    let what = format!("bundle {} (release {}, exported by {})", p.display(), b.header.release, b.header.exporter);
    known.push(KnownCheckpoint { checkpoint: b.header.checkpoint.clone(), source: format!("{}:1 (the bundle's checkpoint)", p.display()) });
    let witnessed = b
        .header
        .witnessed
        .iter()
        .map(|n| Witnessed { note: n.clone().into_bytes(), source: format!("witnessed checkpoint in {}:1", p.display()) })
        .collect::<Vec<_>>();
    let witness_line = describe_witnessed(&witnessed).unwrap_or_else(|| NO_WITNESS.into());
    let anchors = Anchors { known, witnessed, ..Default::default() };
    let trust = given.clone().with_snapshot(b.identities.clone());
    let report = lz_evidence::load::bundle_report(&b, p, &trust, &anchors)?;
    Ok(Some(Checked { report, trust, what, focus: Some(b.header.focus.len()), cache: None, landing_zone: None, hashes: Vec::new(), witness_line }))
}

/// A store verified with this machine's cache of verified heads. The landing zone's is verified
/// once for the whole command (the replay after it shares it), reading from S3 only the records
/// after the verifier's mirror; another store in one streaming pass (memory stays flat however
/// long the chain is). `None`: a landing zone store whose retention was lowered, refused with its
/// findings (printed).
#[allow(clippy::too_many_arguments)]
fn of_store(
    store: &dyn Store,
    cache: VerifiedCache,
    witnessed: Vec<Witnessed>,
    trust: TrustRoot,
    landing_zone: Option<(lz_promote::Paths, String)>,
    mut known: Vec<KnownCheckpoint>,
    retention: Retention,
    out: &mut dyn FnMut(String),
) -> Result<Option<Checked>> {
    known.extend(cache.load()?);
    let mut witness_line = describe_witnessed(&witnessed).unwrap_or_else(|| NO_WITNESS.into());
    let mut hashes = Vec::new();
    let report = match &landing_zone {
        Some((paths, _)) => match lz_promote::verified::current_with(&paths.evidence, &trust, &known, &witnessed, Some(&paths.mirror_dir())) {
            Ok(s) => {
                hashes = s.chain.records.iter().map(|r| r.hash.clone()).collect();
                if !s.listing.is_empty() {
                    witness_line = format!("{witness_line}\n{}", s.listing);
                }
                let quarantined = s.chain.quarantined.clone();
                Report { records: s.chain.records.len(), head: s.chain.head.clone(), failure: None, quarantined }
            }
            Err(e) => match e.downcast::<lz_evidence::Failure>() {
                Ok(f) => Report { records: 0, head: None, failure: Some(f), quarantined: Vec::new() },
                // A store whose retention was lowered is not opened for decisions: its findings
                // are the answer (exit 1), as on the other paths.
                Err(e) if e.is::<lz_evidence::Refused>() => {
                    let findings = match retention()? {
                        Some((s3, floor)) => s3.retention_findings(floor)?,
                        None => Vec::new(),
                    };
                    if findings.is_empty() {
                        return Err(e);
                    }
                    out(format!("REFUSED: {e:#}"));
                    for (place, what) in &findings {
                        out(format!("RETENTION: {place}: {what}"));
                    }
                    return Ok(None);
                }
                Err(e) => return Err(e),
            },
        },
        None => lz_evidence::load::store_report(store, &trust, known, witnessed)?,
    };
    Ok(Some(Checked { report, trust, what: store.describe(), focus: None, cache: Some(cache), landing_zone, hashes, witness_line }))
}

/// The landing zone's store, past its chain: every deployment's admission replayed (a
/// deployment record is a claim), every fact checked where it lives (deployments and clean drift
/// checks against the environment's state bucket, rotations against Secrets Manager), and the
/// local cache compared with the verified records `hashes`. `Ok(false)`: a finding.
fn landing_zone_checks(root: &Path, paths: &lz_promote::Paths, endpoint: &str, hashes: &[String], out: &mut dyn FnMut(String)) -> Result<bool> {
    let ledger = paths.ledger()?;
    let rejected = lz_promote::replay::rejected(paths, &ledger, &ledger.records()?)?;
    for (seq, why) in &rejected {
        out(format!("TAMPERED: deployment record {seq} has no valid admission: {why} [replay]"));
    }
    if !rejected.is_empty() {
        return Ok(false);
    }
    match lz_promote::replay::signed_source(&ledger) {
        Some(source) => out(format!("every deployment's admission: ok ({source}; the later ones replayed; `--full` replays them all)")),
        None => out("every deployment's admission replayed: ok".into()),
    }
    let (admitted, _) = lz_promote::replay::admitted_records(paths, &ledger, ledger.records()?)?;
    // Where an environment is, as the release a record names declares it; a rotation before
    // any deployment names no release, and was done where the checkout's overlay puts the
    // environment (as `rotate` did).
    let locate = |release: &str, env: &str| -> Result<crate::facts::Place> {
        let target = if release == lz_evidence::record::GENESIS {
            crate::target::Target::from_tree(root, env, endpoint)?
        } else {
            crate::target::Target::from_tree(paths.open_release(release)?.root(), env, endpoint)?
        };
        Ok(crate::facts::Place::of_target(target))
    };
    let contradicted = crate::facts::verify(&admitted, &locate)?;
    for c in &contradicted {
        out(format!("CONTRADICTED: {} record {}: {} [facts]", c.kind, c.sequence, c.why));
    }
    if !contradicted.is_empty() {
        return Ok(false);
    }
    out("every deployment, clean drift check and rotation checked against its source: ok".into());
    let local = LocalStore::new(lz_promote::stores::evidence_cache(root));
    match lz_evidence::export::compare_cache(&local, hashes) {
        Ok(Some(a)) => out(format!("local cache {}: {} of {} records, identical", local.path().display(), a.cached, a.records)),
        Ok(None) => out("no local cache (`cargo xtask evidence pull` builds one)".into()),
        Err(e) => {
            out(format!("CACHE MISMATCH: {e:#}"));
            return Ok(false);
        }
    }
    Ok(true)
}

/// "witnessed: ..." for the latest witnessed checkpoint a verification checked.
pub fn describe_witnessed(witnessed: &[Witnessed]) -> Option<String> {
    let w = witnessed.first()?;
    let cp = lz_evidence::witness::parse(&w.note).ok()?.checkpoint;
    Some(format!("witnessed: the chain holds the {} ({} records, head {}, co-signed at {})", w.source, cp.size, cp.size - 1, cp.time))
}
