//! `cargo xtask evidence`: keys, verification, queries and export of the evidence archive.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use lz_evidence::bundle;
use lz_evidence::identity::{self, Signer};
use lz_evidence::query::{Index, Query, RecordSummary, Source, TimeRange};
use lz_evidence::record::{parse_time, short, Fields, Kind};
use lz_evidence::verify::{parse_checkpoint_arg, Anchors, KnownCheckpoint, VerifiedCache};
use lz_evidence::archive::{append_once, AppendRetry, APPEND_ID};
use lz_evidence::witness::Witnessed;
use lz_evidence::{failure_of, EvidenceArchive, Store};
use serde_json::Value;

use crate::store_args::{cache_dir, landing_zone, StoreArgs, StoreKind, TrustArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Generate an ed25519 key pair: the private key goes to FILE, the public key is printed
    Keygen {
        /// File the private key is written to (mode 0600); it must not exist yet
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild the local verified cache from the landing zone's evidence store
    Pull {
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Verify signatures, roles, subjects and the hash chain (exit 1 on tampering)
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Verify an exported bundle offline instead of a store (needs --trust-root or --pin)
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// A checkpoint SEQUENCE:HASH known from elsewhere; the chain must still contain it
        #[arg(long = "checkpoint", value_name = "SEQUENCE:HASH")]
        checkpoints: Vec<String>,
        /// Take nothing from the witness: list every object version of the store, ignoring the
        /// witnessed listing (which lets a verification list only what follows the witnessed
        /// checkpoint), and replay every deployment, ignoring the witness's signed verdicts
        #[arg(long)]
        full: bool,
    },
    /// Query the archive (verified first): chain of custody of a release, provenance of a resource, records of an identity
    Query {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Release digest (or a unique prefix of at least 8 hex digits)
        #[arg(long)]
        release: Option<String>,
        /// Resource address, with --env
        #[arg(long, requires = "env")]
        resource: Option<String>,
        /// Environment of --resource (dev, test, uat, preprod, prod)
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: Option<String>,
        /// Records signed by this identity
        #[arg(long, value_parser = lz_input::ids::identity)]
        identity: Option<String>,
        /// Approvals standing for this approval class (governance/approval-classes.toml), with
        /// their basis and delegator; narrow with --env and --since/--until
        #[arg(long, conflicts_with_all = ["release", "resource", "identity"])]
        class: Option<String>,
        /// RFC 3339 time or YYYY-MM-DD
        #[arg(long)]
        since: Option<String>,
        /// RFC 3339 time or YYYY-MM-DD (inclusive)
        #[arg(long)]
        until: Option<String>,
        /// With --resource: the release that governed the resource at this time (RFC 3339 or YYYY-MM-DD, end of day)
        #[arg(long, requires = "resource")]
        at: Option<String>,
        /// JSON output (same as `--format json`)
        #[arg(long)]
        json: bool,
        /// Output format (`--format json` is `--json`)
        #[arg(long, value_enum, default_value = "text")]
        format: crate::provenance::Format,
    },
    /// Export a self-contained bundle for a release that `verify --bundle` checks offline; its
    /// header (with the latest witnessed checkpoint) is signed by the exporter (--as, --key)
    #[command(mut_arg("identity", |a| a.help("The registered identity that exports and signs the bundle's header")))]
    Export {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Release digest (or a unique prefix of at least 8 hex digits) whose records the bundle holds
        #[arg(long)]
        release: String,
        /// File the bundle is written to
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
    },
    /// Verify the store against its latest witnessed checkpoint and co-sign its head into the
    /// witness store (a C2SP signed note; the witness role only; rerunning is safe)
    #[command(mut_arg("identity", |a| a.help("The witness identity (role `witness` in the chain's register)")))]
    Witness {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        trust: TrustArgs,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Take nothing from the witness's own state or its own last verdicts: read every record
        /// from the store and replay every deployment (the state is rebuilt)
        #[arg(long)]
        full: bool,
    },
    /// Append one record signed by --as (with --key FILE, or the key LZ_SIGNING_KMS_KEY or
    /// LZ_SIGNING_KEY gives); `--identity` is the older name of `--as`
    #[command(mut_arg("identity", |a| a.help("The registered identity that signs the record").visible_alias("identity")))]
    Append {
        #[command(flatten)]
        store: StoreArgs,
        /// For a local or S3 chain other than the landing zone's: what judges it (default: the
        /// landing zone's pinned genesis); the landing zone's store is always judged by its pin
        #[command(flatten)]
        trust: TrustArgs,
        /// plan, policy-evaluation, exception, approval, deployment, drift, break-glass, retrospective
        #[arg(long)]
        kind: String,
        #[command(flatten)]
        signer: crate::context::SignerArgs,
        /// Release digest the record is about
        #[arg(long)]
        release: String,
        /// Environment the record is about
        #[arg(long, value_parser = lz_input::ids::environment)]
        env: Option<String>,
        /// AWS account id the record is about
        #[arg(long)]
        account: Option<String>,
        /// sha256 of the plan the record is about (or give --plan)
        #[arg(long)]
        plan_digest: Option<String>,
        /// Plan JSON (`terraform show -json`) for a plan record; its sha256 is the plan digest
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Change or incident ticket
        #[arg(long)]
        ticket: Option<String>,
        /// Why (free text, recorded)
        #[arg(long)]
        reason: Option<String>,
        /// Kind-specific detail KEY=VALUE (VALUE parsed as JSON when it is JSON)
        #[arg(long = "detail", value_name = "KEY=VALUE")]
        details: Vec<String>,
        /// Client-chosen id of this append (default: a fresh random one, printed): a rerun with
        /// the same id after a lost answer finds the record instead of writing it twice
        #[arg(long = "append-id", value_name = "ID")]
        append_id: Option<String>,
    },
}

pub fn run(root: &Path, args: Args) -> Result<ExitCode> {
    match args.command {
        Cmd::Keygen { out } => keygen(&out),
        Cmd::Pull { trust } => pull(root, &trust),
        Cmd::Witness { store, trust, signer, full } => {
            let signer = signer.signer()?;
            witness(root, &store, &trust, &signer, full)
        }
        Cmd::Verify { store, trust, bundle, checkpoints, full } => {
            if full {
                lz_promote::verified::list_in_full(true);
                lz_promote::replay::use_signed_verdicts(false);
                lz_promote::verified::use_seeds(false);
            }
            let known = checkpoints.iter().map(|c| parse_checkpoint_arg(c)).collect::<Result<Vec<_>>>()?;
            verify(root, &store, &trust, bundle.as_deref(), known)
        }
        Cmd::Query { store, trust, release, resource, env, identity, class, since, until, at, json, format } => {
            let json = json || format == crate::provenance::Format::Json;
            if let (Some(address), Some(env)) = (&resource, &env) {
                let at = at.as_deref().map(|s| time_arg(s, true)).transpose()?;
                return crate::provenance::run(root, &store, &trust, env, address, at, json);
            }
            let range = TimeRange { since: since.as_deref().map(|s| time_arg(s, false)).transpose()?, until: until.as_deref().map(|s| time_arg(s, true)).transpose()? };
            query(root, &store, &trust, QueryArgs { release, resource, env, identity, class, range, json })
        }
        Cmd::Export { store, trust, release, out, signer } => {
            let signer = signer.signer()?;
            export(root, &store, &trust, &release, &out, &signer)
        }
        Cmd::Append { store, trust, kind, signer, release, env, account, plan_digest, plan, ticket, reason, details, append_id } => {
            if store.store_kind == StoreKind::LandingZone && (trust.trust_root.is_some() || !trust.pins.is_empty()) {
                bail!("the landing zone's evidence store is judged by the genesis register governance/stores.toml pins: --trust-root and --pin apply to other stores only");
            }
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind)
                .with_context(|| format!("unknown kind {kind:?} (one of {})", Kind::ALL.map(|k| k.as_str()).join(", ")))?;
            let signer = signer.signer()?;
            let mut fields = Fields::new(release);
            fields.environment = env;
            fields.account = account;
            fields.plan_digest = plan_digest;
            fields.ticket = ticket;
            fields.reason = reason;
            if let Some(p) = plan {
                let (digest, details) = lz_evidence::load::plan_file(&p, fields.plan_digest.as_deref())?;
                fields.plan_digest = Some(digest);
                fields = fields.details(details);
            }
            // Raw details, as an operator (or an insider) types them: the archive parses them as
            // the kind's typed details before signing (lz_evidence::details), naming a bad field.
            for d in details {
                let (k, v) = d.split_once('=').with_context(|| format!("--detail {d:?} is not KEY=VALUE"))?;
                let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
                fields.raw_details_mut().insert(k.to_string(), v);
            }
            if let Some(id) = append_id {
                if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    bail!("--append-id {id:?} must be 1 to 128 letters, digits, '-' or '_'");
                }
                fields.raw_details_mut().insert(APPEND_ID.into(), Value::String(id));
            }
            if store.store_kind == StoreKind::S3 {
                // Created (or checked) once: a retention below the floor is refused here.
                if let Err(e) = store.create_s3(root) {
                    return refused_or(e);
                }
            }
            // Each try opens the store afresh on the head as it is now, and signs against the
            // register in force in the store's own chain (its genesis is pinned in
            // governance/stores.toml), never the working tree's register file.
            let trust = trust.or_repository(root)?;
            // Foreign objects the last try found after the chain's last record: its record records them.
            let foreign: std::cell::RefCell<Vec<String>> = Default::default();
            let open = || -> Result<EvidenceArchive<Box<dyn Store>>> {
                let target: Box<dyn Store> = match store.store_kind {
                    StoreKind::LandingZone => Box::new(landing_zone(root)?.evidence()?),
                    StoreKind::Local => Box::new(store.local(root)),
                    StoreKind::S3 => Box::new(store.s3(root)?),
                };
                let chain = match lz_evidence::verify_store(&*target, &trust, &[]) {
                    Ok(chain) => {
                        *foreign.borrow_mut() = chain.quarantined.iter().map(|q| q.to_string()).collect();
                        chain
                    }
                    Err(e) => {
                        return Err(match failure_of(&e) {
                            Some(f) => lz_evidence::Refused(format!(
                                "the store fails verification, nothing appended: {f} [{}]",
                                f.reason.code()
                            ))
                            .into(),
                            None => e,
                        })
                    }
                };
                // Every record is judged by the verifier's rules after the chain's last before it
                // is signed: an append never makes the store unverifiable.
                EvidenceArchive::open_verified(target, &chain)
            };
            let done = match append_once(open, kind, fields, &signer, AppendRetry::default()) {
                Ok(done) => done,
                Err(e) => return refused_or(e),
            };
            let (r, id) = (&done.record, &done.append_id);
            if done.already {
                println!("already appended: {} record sequence {} ({}), append id {id} (an earlier attempt stored it)", r.kind, r.sequence, r.hash);
            } else {
                println!("appended {} record sequence {} ({}), append id {id}", r.kind, r.sequence, r.hash);
            }
            if let Some(why) = &done.head_behind {
                println!("note: the head was not moved to record {} ({why}); the next append moves it", r.sequence);
            }
            for q in foreign.borrow().iter() {
                println!("note: {q}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A refusal printed with exit 1; any other error is returned (exit 2).
fn refused_or(e: anyhow::Error) -> Result<ExitCode> {
    match e.downcast_ref::<lz_evidence::Refused>() {
        Some(refused) => {
            println!("REFUSED: {refused}");
            Ok(ExitCode::from(1))
        }
        None => Err(e),
    }
}

pub(crate) fn time_arg(s: &str, end_of_day: bool) -> Result<time::OffsetDateTime> {
    if let Ok(t) = parse_time(s) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).with_context(|| format!("{s:?} is neither an RFC 3339 time nor YYYY-MM-DD"))?;
    let t = if end_of_day { d.with_hms_nano(23, 59, 59, 999_999_999)? } else { d.midnight() };
    Ok(t.assume_utc())
}

fn keygen(out: &Path) -> Result<ExitCode> {
    let key = identity::generate_key();
    identity::write_private_key(out, &key)?;
    let public = key.verifying_key();
    println!("private key written to {} (keep it out of the repository)", out.display());
    println!("public_key = \"{}\"", identity::encode_public_key(&public));
    println!("keyid      = {}", identity::keyid_of(&public));
    Ok(ExitCode::SUCCESS)
}

/// A store's anchors and records, verified against the trust root (the cached checkpoints of
/// this machine included; the new head is cached). `None` when the chain is tampered with: the
/// failure was printed, followed by `then`.
pub(crate) fn load_verified(
    root: &Path,
    store: &dyn Store,
    trust: &TrustArgs,
    witnessed: Vec<Witnessed>,
    then: &str,
) -> Result<Option<(Anchors, Vec<lz_evidence::StoredRecord>, lz_evidence::VerifiedChain)>> {
    let cache = VerifiedCache::new(&cache_dir(root), &store.describe());
    match lz_evidence::load::verified(store, &trust.or_repository(root)?, &cache, witnessed)? {
        Ok(l) => {
            foreign_findings(&l.chain.quarantined);
            Ok(Some((l.anchors, l.records, l.chain)))
        }
        Err(f) => {
            println!("TAMPERED: {f} [{}]; {then}", f.reason.code());
            Ok(None)
        }
    }
}

/// Prints a `FOREIGN:` finding per quarantined object (see `lz_evidence::quarantine`).
fn foreign_findings(quarantined: &[lz_evidence::Quarantined]) {
    for q in quarantined {
        println!("FOREIGN: {q}");
    }
}

/// `evidence pull`: the landing zone's evidence store, verified, copied into the local cache
/// (`.tools/evidence/main.jsonl` and its head): a cache that can be deleted and rebuilt.
fn pull(root: &Path, trust: &TrustArgs) -> Result<ExitCode> {
    let lz = landing_zone(root)?;
    let store = lz.evidence()?;
    let witnessed = lz.witness()?.latest()?.into_iter().collect();
    let Some((anchors, records, chain)) = load_verified(root, &store, trust, witnessed, "the local cache is left as it was")? else {
        return Ok(ExitCode::from(1));
    };
    let local = lz_promote::stores::evidence_cache(root);
    // A quarantined (foreign) head is not copied.
    let head = anchors.head.as_ref().filter(|h| !chain.quarantined.iter().any(|q| q.location == h.location)).map(|h| &h.bytes[..]);
    lz_evidence::store::write_copy(&local, &records, head)?;
    println!("pulled {} verified records from {} into {}", records.len(), store.describe(), local.display());
    // Foreign objects (printed above) are findings: the copy holds the chain without them.
    Ok(if chain.quarantined.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `evidence verify`: the arguments resolved into what `lz_operate::evidence_verify` checks, its
/// lines printed.
fn verify(root: &Path, args: &StoreArgs, trust: &TrustArgs, bundle_path: Option<&Path>, known: Vec<KnownCheckpoint>) -> Result<ExitCode> {
    use lz_operate::evidence_verify::Subject;
    let subject = match bundle_path {
        Some(path) => {
            let bundle = bundle::read_bundle(path)?;
            Subject::Bundle { path, bundle, given: trust.given(root)? }
        }
        None => {
            let store: Box<dyn Store> = match args.retention_subject(root)? {
                Some((s3, _)) => Box::new(s3),
                None => args.open(root)?,
            };
            let cache = VerifiedCache::new(&cache_dir(root), &store.describe());
            let witnessed = args.witnessed(root)?;
            let trust = trust.or_repository(root)?;
            let landing_zone = match args.store_kind {
                StoreKind::LandingZone => {
                    let lz = crate::context::LandingZone::open(root)?;
                    Some((lz.paths, lz.endpoint))
                }
                _ => None,
            };
            Subject::Store { store, cache, witnessed, trust, landing_zone }
        }
    };
    let clean = lz_operate::evidence_verify::verify(root, subject, known, &|| args.retention_subject(root), &mut |line| println!("{line}"))?;
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

struct QueryArgs {
    release: Option<String>,
    resource: Option<String>,
    env: Option<String>,
    identity: Option<String>,
    class: Option<String>,
    range: TimeRange,
    json: bool,
}

fn describe(r: &RecordSummary) -> String {
    let mut parts = vec![format!("#{:<6} {} {:<22} {:<17}", r.sequence, r.time, r.identity, r.kind.as_str())];
    if let Some(e) = &r.environment {
        parts.push(format!("env={e}"));
    }
    if let Some(p) = &r.plan_digest {
        parts.push(format!("plan={}", short(p)));
    }
    if let Some(t) = &r.ticket {
        parts.push(format!("ticket={t}"));
    }
    for (k, v) in &r.details {
        let v = match v {
            Value::Array(a) if k == "findings" => format!("{} finding(s)", a.len()),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{k}={v}"));
    }
    if let Some(reason) = &r.reason {
        parts.push(format!("reason={reason:?}"));
    }
    parts.join(" ")
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn query(root: &Path, args: &StoreArgs, trust: &TrustArgs, q: QueryArgs) -> Result<ExitCode> {
    // Answers come only from a chain verified now: the sidecar index is not consulted.
    let store = args.open(root)?;
    let Some((_, records, chain)) = load_verified(root, &*store, trust, args.witnessed(root)?, "not answering from an unverified chain")? else {
        return Ok(ExitCode::from(1));
    };
    let index = Index::from_verified(&chain);
    let source = Source::Memory(&records);
    let query = Query { index: &index, source, range: q.range };
    if let Some(class) = &q.class {
        // Approval classes (issue 31): who approved for the class, and on what basis.
        let rows = query.class_approvals(class, q.env.as_deref())?;
        if q.json {
            print_json(&rows)?;
        } else {
            for r in &rows {
                let a = &r.approval;
                let basis = match (a.basis.as_str(), &a.delegator, a.delegation, &a.shift_until) {
                    ("delegation", Some(d), Some(s), _) => format!("delegated by {d} (delegation record {s})"),
                    ("on-call", _, _, Some(u)) => format!("on call (shift until {u})"),
                    (b, ..) => b.to_string(),
                };
                println!(
                    "#{:<6} {} {:<18} env={} release={} class={} control={:?} {basis}",
                    r.sequence,
                    r.time,
                    r.identity,
                    r.environment.as_deref().unwrap_or("-"),
                    short(&r.release),
                    a.class,
                    a.control
                );
            }
            println!("{} approval(s) for class {class}", rows.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(release) = &q.release {
        let c = query.release(release)?;
        if q.json {
            print_json(&c)?;
        } else {
            println!("release {}", c.release);
            for t in &c.tickets {
                println!("  ticket {} {}", t["ticket"].as_str().unwrap_or("?"), t["reason"].as_str().map(|r| format!("({r})")).unwrap_or_default());
            }
            for (env, e) in &c.environments {
                println!("environment {env}");
                for r in e.all() {
                    println!("  {}", describe(r));
                }
            }
        }
    } else if let Some(address) = &q.resource {
        let env = q.env.as_deref().expect("clap requires --env with --resource");
        let rows = query.resource(address, env)?;
        if q.json {
            print_json(&serde_json::json!({"resource": address, "environment": env, "history": rows}))?;
        } else if rows.is_empty() {
            println!("no plan or deployment in {env} names {address}");
        } else {
            println!("{env} {address}");
            for p in &rows {
                println!("  release {} plan {}", p.release, p.plan_digest.as_deref().unwrap_or("-"));
                for r in p.plan.iter().chain(&p.approvals).chain(&p.deployment) {
                    println!("    {}", describe(r));
                }
            }
            if let Some(cur) = rows.iter().rev().find(|p| p.deployment.is_some()) {
                println!("current: release {} deployed by {}", cur.release, cur.deployment.as_ref().unwrap().identity);
            }
        }
    } else {
        let rows = match &q.identity {
            Some(name) => query.identity(name)?,
            None if q.range.since.is_some() || q.range.until.is_some() => query.all()?,
            None => bail!("give --release, --resource with --env, --identity, or --since/--until"),
        };
        if q.json {
            print_json(&rows)?;
        } else {
            for r in &rows {
                println!("{} release={}", describe(r), short(&r.release));
            }
            println!("{} record(s)", rows.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(root: &Path, args: &StoreArgs, trust: &TrustArgs, release: &str, out: &Path, signer: &Signer) -> Result<ExitCode> {
    let store = args.open(root)?;
    let trust = trust.or_repository(root)?;
    let witnessed = args.witnessed(root)?;
    let prepared = match lz_evidence::export::prepare(&*store, &trust, witnessed) {
        Ok(p) => p,
        Err(e) => match failure_of(&e) {
            Some(f) => {
                println!("TAMPERED: {f} [{}]; not exporting", f.reason.code());
                return Ok(ExitCode::from(1));
            }
            None => return Err(e),
        },
    };
    foreign_findings(&prepared.quarantined);
    let witnessed = prepared.witnessed_source().map(str::to_string);
    let header = match prepared.write(release, out, signer) {
        Ok(h) => h,
        Err(e) => return refused_or(e),
    };
    println!(
        "exported {} records ({} for release {}) with checkpoint {} to {}",
        header.records,
        header.focus.len(),
        short(&header.release),
        header.checkpoint.sequence,
        out.display()
    );
    match witnessed {
        Some(source) => println!("the header, signed by {}, carries the {source}", signer.identity()),
        None => println!("the header, signed by {}, carries no witnessed checkpoint (the chain has no witness)", signer.identity()),
    }
    println!("the verifier pins the register with --pin {} (or supplies its own --trust-root)", header.identities_sha256);
    Ok(ExitCode::SUCCESS)
}

/// Where `evidence witness` keeps the witness's own state, under the repository root.
const WITNESS_STATE: &str = ".tools/evidence/witness-state";

/// `evidence witness`: verifies the store against its latest witnessed checkpoint (and this
/// machine's cache of verified heads), then co-signs its head as a C2SP signed note into the
/// witness store (`lz_evidence::witness::cosign`).
fn witness(root: &Path, args: &StoreArgs, trust: &TrustArgs, signer: &Signer, full: bool) -> Result<ExitCode> {
    let Some(ws) = args.witness(root, true)? else {
        bail!("this store has no witness store: pass --witness-bucket BUCKET (the landing zone's is the one {} names)", lz_promote::stores::STORES_FILE);
    };
    let store = args.open(root)?;
    let cache = VerifiedCache::new(&cache_dir(root), &store.describe());
    // The witness's own state (its mirror of what it verified, keyed by the store and the trust
    // root): the next run reads from the store only the records after it.
    let state = root.join(WITNESS_STATE);
    if full {
        match std::fs::remove_dir_all(&state) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).with_context(|| format!("cannot remove {}", state.display())),
            _ => {}
        }
    }
    let done = match lz_evidence::witness::cosign_kept(&*store, &ws, &trust.or_repository(root)?, cache.load()?.into_iter().collect(), signer, &state) {
        Ok(done) => done,
        Err(e) => {
            if let Some(f) = failure_of(&e) {
                println!("TAMPERED: {f} [{}]; nothing witnessed", f.reason.code());
                return Ok(ExitCode::from(1));
            }
            return refused_or(e);
        }
    };
    let Some(done) = done else {
        println!("the chain is empty: nothing to witness");
        return Ok(ExitCode::SUCCESS);
    };
    let cp = &done.checkpoint;
    cache.save(&(cp.size - 1, cp.hash.clone()))?;
    match &done.read {
        lz_evidence::witness::Kept::Incremental { kept, carried } => println!(
            "read: {kept} records from the witness's state in {WITNESS_STATE} ({carried} signatures carried to its own last note), the rest from the store; every object version listed"
        ),
        lz_evidence::witness::Kept::Full(why) => println!("read: every record from the store ({why})"),
    }
    println!(
        "{} checkpoint of {}: {} records, head {} ({}), signed by {} at {}",
        if done.new { "witnessed" } else { "already witnessed" },
        store.describe(),
        cp.size,
        cp.size - 1,
        cp.hash,
        signer.identity(),
        cp.time
    );
    println!("note: {}", done.location);
    match &done.seeded {
        Ok(n) => println!("mirror seeds: {n} new segment(s) of {} records (a verifier without a mirror plants one from them)", lz_evidence::witness::seed::SEGMENT),
        Err(why) => println!("mirror seeds: none written ({why}); verifiers without a mirror read every record from the evidence store"),
    }
    for f in &done.findings {
        println!("FINDING: {f}");
    }
    if !done.findings.is_empty() {
        println!("the note vouches for no listing: every verification lists the whole store until a witness run finds none");
        return Ok(ExitCode::from(1));
    }
    // The landing zone's chain: every deployment replayed, and the verdicts signed, so that
    // commands replay only the deployments after them (`lz_promote::replay::witnessed`).
    if args.store_kind == StoreKind::LandingZone {
        let lz = crate::context::LandingZone::open(root)?;
        let publish = if full { lz_operate::witness_verdicts::publish_full } else { lz_operate::witness_verdicts::publish };
        match publish(&lz.paths, signer) {
            Ok(Some(p)) => println!(
                "replay verdicts: the {} records' deployments replayed{}, {} without a valid admission, signed into {}{}",
                p.verdicts.size,
                p.from.map(|n| format!(" (those before record {n} taken from the witness's own last verdicts)")).unwrap_or_default(),
                p.verdicts.rejected.len(),
                p.location,
                if p.new { "" } else { " (already there)" }
            ),
            Ok(None) => {}
            Err(e) if lz_promote::is_refusal(&e) => {
                println!("REFUSED: {e:#} (the replay verdicts were not signed; the checkpoint note stands)");
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e.context("the replay verdicts were not signed (the checkpoint note stands)")),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench evidence` (in the release build, see `bench.rs`).
pub fn bench(root: &Path, s3_records: &[usize], s3_only: bool) -> Result<ExitCode> {
    if !s3_only {
        lz_evidence::bench::run(root)?;
    }
    if !s3_records.is_empty() {
        bench_chain(root, s3_records, &[], &lz_operate::bench_chain::Steps::default())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench chain` (in the release build, see `bench.rs`): the S3 part alone, on
/// chains of `records` records and of `releases` releases (ascending), per round.
pub fn bench_chain(root: &Path, records: &[usize], releases: &[usize], steps: &lz_operate::bench_chain::Steps) -> Result<()> {
    let endpoint = lz_platform::localstack::require(root)?;
    let (mut records, mut releases) = (records.to_vec(), releases.to_vec());
    records.sort_unstable();
    releases.sort_unstable();
    lz_operate::bench_chain::run_with(root, &endpoint, &records, &releases, Some(&std::env::current_exe()?), steps)
}

#[cfg(test)]
mod tests {
    #[test]
    fn arguments_are_consistent() {
        use clap::Args as _;
        super::Args::augment_args(clap::Command::new("evidence")).debug_assert();
    }
}
