//! `cargo xtask bench evidence`, S3 part: the time of `verify`, `approve` and `promote` on an
//! S3 evidence chain (LocalStack) of each length asked for, from scratch (a process that never
//! saw the chain, no mirror: with and without the witness's mirror seeds) and incrementally (a new process with the verifier's mirror, after
//! one new record), each with its goal (issue 36), the peak memory of the step and the load average.
//! `cargo xtask bench chain` runs this part alone (with the provenance lookup of issue 27).
//!
//! The chain is a sandbox's real chain (genesis register, releases, pins, a high-tier deployment
//! to dev) padded with signed drift records of an environment no decision of it reads ([`PADDING_ENV`]); the padding is
//! signed locally and written with parallel conditional PUTs, its head once per padding step.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use lz_evidence::mirror::Mirror;
use lz_evidence::record::{DriftEvidence, EvidenceBuilder, Fields, Kind};
use lz_evidence::{EvidenceArchive, LocalStore, S3Store, Signer, Store};

use crate::clock::Clock;
use crate::ledger::{EvidenceAt, Record};
use crate::sandbox::Sandbox;
use crate::stores::Stores;
use crate::tier::Tier;

/// PUTs in flight while padding the chain (64 timed out on a loaded LocalStack at 10,000;
/// each PUT is tried again on an error, records and heads alike).
const PUTS: usize = 32;

/// The steps of a round `--only` and `--skip` choose from, each with what it times. The chain
/// is always built, and the witness always co-signs it first (its checkpoint, its mirror seeds
/// and its replay verdicts are what every step reads).
pub const STEPS: &[(&str, &str)] = &[
    ("verify", "`verify` seeded (no mirror: planted from the witness's seeds) and incrementally (a new process with its mirror, after one new record)"),
    ("unseeded", "`verify` from scratch with neither mirror nor seeds, every record read from S3 (run only when named)"),
    ("witness", "the witness again after one new record, with its state"),
    ("verdicts", "the witness's replay verdicts, after its round-start run and after the new record (run too, unnamed, before provenance, approve or promote, which read them)"),
    ("provenance", "the provenance look-up, in process and as a separate process, and its parts"),
    ("approve", "`approve` from scratch and incrementally (chains without `--releases` only)"),
    ("promote", "`promote` of a standard change from scratch and incrementally (chains without `--releases` only)"),
    ("parts", "where the time of a verification and of the replay goes (informative)"),
];

/// The steps run without `--only`: every one but `unseeded` (a 100,000-record chain read
/// object by object takes minutes, and the seeded figure is the one a fresh runner sees).
const NOT_BY_DEFAULT: &[&str] = &["unseeded"];

/// The steps a run measures ([`STEPS`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Steps(std::collections::BTreeSet<&'static str>);

impl Default for Steps {
    fn default() -> Steps {
        Steps(STEPS.iter().map(|(n, _)| *n).filter(|n| !NOT_BY_DEFAULT.contains(n)).collect())
    }
}

impl Steps {
    /// The step named `name`, or why it is none (naming the steps there are).
    pub fn step(name: &str) -> std::result::Result<&'static str, String> {
        let names = || STEPS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        if name.trim().is_empty() {
            return Err(format!("an empty step name (the steps: {})", names()));
        }
        STEPS.iter().map(|(n, _)| *n).find(|n| *n == name).ok_or_else(|| format!("unknown step {name:?} (the steps: {})", names()))
    }

    /// `--only` (exactly these steps) or `--skip` (the default ones but these); neither: the
    /// default ones. An unknown or empty name, or both lists, is an error naming the steps.
    pub fn select(only: &[String], skip: &[String]) -> std::result::Result<Steps, String> {
        if !only.is_empty() && !skip.is_empty() {
            return Err("--only and --skip do not go together: name the steps to run, or the ones to leave out".into());
        }
        let named = |list: &[String]| list.iter().map(|n| Steps::step(n)).collect::<std::result::Result<std::collections::BTreeSet<_>, _>>();
        if !only.is_empty() {
            return Ok(Steps(named(only)?));
        }
        let skipped = named(skip)?;
        Ok(Steps(Steps::default().0.into_iter().filter(|n| !skipped.contains(n)).collect()))
    }

    /// Whether the step `name` runs.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The steps, comma-separated, in [`STEPS`] order.
    pub fn names(&self) -> String {
        STEPS.iter().map(|(n, _)| *n).filter(|n| self.has(n)).collect::<Vec<_>>().join(",")
    }
}

/// The `--only`/`--skip` help: every step with what it times.
pub fn steps_help() -> String {
    let steps: Vec<String> = STEPS.iter().map(|(n, what)| format!("{n}: {what}")).collect();
    format!("comma-separated; the steps are {}", steps.join("; "))
}

/// The environment the padding's drift records name: one the benchmark never decides on (it
/// releases, approves and promotes to dev only). It is a real environment because the padding's
/// signer, the sandbox's shared deployer, is bound to the landing zone's environments
/// (`lz_evidence::binding`) and may sign no record of any other.
const PADDING_ENV: &str = "prod";

/// Runs the benchmark for chains of `sizes` records (ascending); prints each figure as it is
/// measured.
pub fn run(root: &Path, endpoint: &str, sizes: &[usize]) -> Result<()> {
    run_with(root, endpoint, sizes, &[], None, &Steps::default())
}

/// How long after the witness's checkpoint a decision of the benchmark may start before the
/// witness co-signs a fresh one: well inside the default `max_clock_skew_minutes` (10), the
/// bound an unauthenticated clock is held to (`lz_promote::clock::bound`), so that no step of a
/// long round (a 100,000-record verification from scratch) makes a decision run against a stale
/// checkpoint. The control itself is never relaxed: the benchmark does what an operator is
/// told to do, have the witness co-sign again.
const FRESH_WITNESS: Duration = Duration::from_secs(4 * 60);

/// [`run`] with a chain of many releases: round `i` first grows the chain to `releases[i]`
/// releases (each with its signed release record and its own archive; one in
/// [`DEPLOYED_EVERY`] admitted and deployed to dev, [`grow_releases`]), then pads it to
/// `sizes[i]` records. With releases, the rounds measure the verification and the provenance
/// lookup only: the releases' deployments write no Terraform state, so a real decision on dev
/// after them would be refused by its facts gate (the baseline's state), as it should be.
///
/// The order of a round: the chain grown, the witness (checkpoint, seeds, replay verdicts),
/// the figures each decision command's time is read from (verify, the lookup), the decisions
/// right after a fresh witnessed checkpoint (approve, promote), and last the informative parts
/// (where the time of a verification and of a lookup goes), which read the chain at leisure.
///
/// `xtask` is the `xtask` binary to time `evidence query --resource` with as a separate process
/// (`None`: the look-up is timed inside this process only). `steps`: the steps of each round
/// that run ([`STEPS`]).
pub fn run_with(root: &Path, endpoint: &str, sizes: &[usize], releases: &[usize], xtask: Option<&Path>, steps: &Steps) -> Result<()> {
    println!("steps: {}", steps.names());
    // Its own directory per run, also for two runs of one process (the sandbox's bucket names,
    // its dev state bucket included, derive from the directory).
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = root.join(".tools/bench/evidence-s3").join(format!("{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut stores = Stores::load(root, endpoint)?;
    let named = stores.clone();
    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            % 0xff_ffff
    );
    stores.release_bucket = format!("{}-bench-{nonce}", stores.release_bucket);
    stores.evidence_bucket = format!("{}-bench-{nonce}", stores.evidence_bucket);
    stores.witness_bucket = format!("{}-bench-{nonce}", stores.witness_bucket);
    let plan = crate::release::render_env(root, &stores.environment)?;
    crate::bootstrap::bootstrap_stores(&stores, &plan)?;

    let mut sb = Sandbox::new(root, endpoint, &dir.join("sandbox"))?;
    sb.paths.evidence = EvidenceAt::S3(stores.clone());
    // The sandbox's tree names the benchmark's buckets, so that `xtask evidence query` run there
    // as a user runs it reads this chain, its witness store and its release bucket.
    let file = sb.tree.join(crate::stores::STORES_FILE);
    let mut text = std::fs::read_to_string(&file)?;
    for (from, to) in [
        (&named.release_bucket, &stores.release_bucket),
        (&named.evidence_bucket, &stores.evidence_bucket),
        (&named.witness_bucket, &stores.witness_bucket),
    ] {
        let quoted = format!("\"{from}\"");
        // A stores file that no longer names the bucket as quoted here would leave the separate
        // process reading the landing zone's own buckets: refused instead.
        ensure!(text.contains(&quoted), "{} does not name the bucket {quoted}: the benchmark cannot point it at its own", file.display());
        text = text.replace(&quoted, &format!("\"{to}\""));
    }
    std::fs::write(&file, text)?;
    sb.start_chain()?;
    std::fs::write(
        sb.tree.join("governance/change-windows.toml"),
        "timezone = \"Europe/London\"\n",
    )?;
    let dev = sb.target("dev")?;
    let clock = Clock::server(endpoint, &dev.account_id, &dev.region);

    // The landing zone's first deployment to dev (high tier: two approvals).
    let t0 = Instant::now();
    let base = sb.release("bench-base", "alice", &clock, |_| Ok(()))?;
    sb.approve_exceptions(&base, &clock)?;
    sb.pin("dev", &base, &clock)?;
    sb.bootstrap("dev", &base)?;
    sb.approve("bob", &base, "dev", &clock)?;
    sb.approve("erin", &base, "dev", &clock)?;
    let o = sb.promote(&base, "dev", "deployer-bot", &clock, 0)?;
    ensure!(
        o.admission.tier == Tier::High,
        "expected the high tier, got {}",
        o.admission.tier
    );
    println!(
        "setup (release, bootstrap, first deployment to dev): {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    // The lookup reads releases as a user's does: from the S3 release bucket.
    let s3_paths = crate::Paths { releases: crate::release::ReleasesAt::S3(stores.clone()), ..sb.paths.clone() };
    let mut published = publish_releases(&sb.releases_dir(), &stores, std::slice::from_ref(&base))?;
    let store = stores.evidence()?;
    let mirror = Mirror::new(&sb.paths.mirror_dir(), &store, &sb.paths.trust);
    let cold = |sb: &Sandbox| {
        crate::verified::forget_all();
        crate::replay::forget_verdicts();
        let _ = std::fs::remove_file(mirror.path());
        let _ = std::fs::remove_file(mirror.path().with_extension("json"));
        let _ = std::fs::remove_file(mirror.path().with_extension("heads.jsonl"));
        // A fresh runner has no kept state either (issue 36).
        let _ = std::fs::remove_file(mirror.path().with_extension("state.json"));
        let _ = std::fs::remove_file(mirror.path().with_extension("state.note"));
        let _ = sb;
    };
    // A new process of a verifier that ran before: nothing in memory, its mirror on disk.
    let warm = || {
        crate::verified::forget_all();
        crate::replay::forget_verdicts();
    };
    // A resource of dev's deployed plans (`evidence query --resource`, issue 27).
    let base_plan = sb.paths.open_release(&base)?.plan("dev")?;
    let address = first_module_resource(&base_plan["planned_values"]["root_module"])
        .context("the dev plan declares a module resource")?;
    // A verification as every decision command starts with it: its time and the records verified.
    let verify_now = || timed(|| Ok(crate::verified::current(&sb.paths.evidence, &sb.paths.trust, Some(&sb.paths.mirror_dir()))?.records.len()));
    let decide = releases.is_empty();
    let mut grown: Option<Grown> = None;

    for round in 0..sizes.len().max(releases.len()) {
        if let Some(&want) = releases.get(round) {
            let t = Instant::now();
            let g = grow_releases(&sb, &store, &dir, &clock, grown.take(), want)?;
            println!(
                "\n{} releases on the chain ({} deployed to dev: one in {DEPLOYED_EVERY}, each admitted as its template was; {:.1}s to sign and write, {PUTS} PUTs in flight)",
                g.releases,
                g.deployed,
                t.elapsed().as_secs_f64()
            );
            let t = Instant::now();
            let fresh = &g.deployed_releases[published.min(g.deployed_releases.len())..];
            let n = publish_releases(&sb.releases_dir(), &stores, fresh)?;
            published = g.deployed_releases.len();
            println!(
                "{n} deployed releases published to the S3 release bucket in {:.1}s ({PUBLISHERS} publishers, conditional PUTs; the releases never deployed are read by no lookup and stay local)",
                t.elapsed().as_secs_f64()
            );
            grown = Some(g);
        }
        let have = store
            .windows()?
            .map(|w| w.map(|w| w.len()))
            .sum::<Result<usize>>()?;
        let size = sizes.get(round).copied().unwrap_or(0);
        let t = Instant::now();
        let padded = pad(&sb, &store, &dir, size.saturating_sub(have))?;
        let length = have + padded;
        println!(
            "\nchain of {length} records on S3 ({padded} padding records signed and written in {:.1}s, {PUTS} PUTs in flight)",
            t.elapsed().as_secs_f64()
        );

        // The witness (on its schedule): a full listing, signed with its checkpoint; every command
        // below lists only what follows it (`lz_evidence::vouch`). With its state from the last
        // round, it reads from S3 only the records the round added.
        // The replay verdicts spare the look-up's and the decisions' replays: signed whenever
        // one of those runs.
        let verdicts = ["verdicts", "provenance", "approve", "promote"].iter().any(|s| steps.has(s));
        let round_witnessed = if verdicts { witness_and_verdicts(&sb, "round start")? } else { witness_as(&sb, Some("round start"))? };

        // verify: the chain as every decision command reads it. A process with no mirror and no
        // seed reads every record from the store; a fresh runner plants its mirror from the
        // witness's seeds and reads only the records after them.
        if steps.has("unseeded") {
            cold(&sb);
            crate::verified::use_seeds(false);
            let unseeded = verify_now();
            crate::verified::use_seeds(true);
            let (d, n) = unseeded?;
            line(
                "verify",
                "from scratch",
                d,
                &format!("{n} records, no mirror, no seed: every record read from S3"),
            );
        }
        if steps.has("verify") {
            cold(&sb);
            let (d, n) = verify_now()?;
            line(
                "verify",
                "seeded",
                d,
                &format!(
                    "{n} records, no mirror: {} planted from the witness's seeds",
                    crate::verified::planted()
                ),
            );
        }
        sb.drift_note(&clock)?;
        if steps.has("verify") {
            warm();
            let (d, n) = verify_now()?;
            line("verify", "incremental", d, &format!("{n} records, 1 new; {} mirrored signatures carried to the witnessed point", crate::verified::carried()));
        }

        // The witness again after that new record, with its own state: only the new record is
        // read from S3 (every object version still listed), and only the deployments after its
        // own last verdicts are replayed.
        let mut witnessed = match (steps.has("witness"), verdicts) {
            (true, true) => witness_and_verdicts(&sb, "incremental")?,
            (true, false) => witness_as(&sb, Some("incremental"))?,
            (false, _) => round_witnessed,
        };

        // provenance: the whole `evidence query --resource` (one verification, the replay of
        // dev's deployments, the index, the answer) in a new process with the mirror.
        // Three times, each as a new process (nothing in memory, the mirror on disk): the median.
        if steps.has("provenance") {
            let mut runs = Vec::new();
            let replayed = lz_promote::replay::replayed();
            let mut opened = 0;
            for _ in 0..3 {
                warm();
                let (d, looked) = timed(|| {
                    lz_promote::provenance::look_up(&s3_paths, &[], &[], "dev", &address, None)
                })?;
                let answer = looked.answer.context("nothing deployed to dev")?;
                ensure!(
                    answer.resource.is_some(),
                    "{address} has no provenance in dev"
                );
                ensure!(
                    answer.plan_matches,
                    "the plan re-rendered from release {} is not the recorded one",
                    answer.release
                );
                opened = looked.releases_opened;
                runs.push(d);
            }
            let shown: Vec<String> = runs
                .iter()
                .map(|d| format!("{:.2}s", d.as_secs_f64()))
                .collect();
            runs.sort();
            let replayed = (lz_promote::replay::replayed() - replayed) / 3;
            let of = grown
                .as_ref()
                .map(|g| format!(", {} releases ({} deployed to dev)", g.releases, g.deployed))
                .unwrap_or_default();
            line(
                "provenance",
                "in process",
                runs[1],
                &format!("{address} in dev{of}, the whole look-up inside the benchmark's process, releases from S3, median of {}; {replayed} admission(s) replayed per run (the rest from the witness's signed verdicts), {opened} release archive(s) opened", shown.join(", ")),
            );
            if let Some(xtask) = xtask {
                let (median, shown) = query_process(xtask, &sb, &address)?;
                line(
                    "provenance",
                    "process",
                    median,
                    &format!("`xtask evidence query --resource {address} --env dev` as a separate process with its mirror, median of {shown}"),
                );
            }
            println!("    (its parts, in process: {})", provenance_parts(&s3_paths, &address)?);
        }

        if decide && steps.has("approve") {
            // approve: a high-tier release's first approval, then its second; each decision
            // right after a witnessed checkpoint fresh enough for its clock.
            let rel = sb.release(&format!("bench-approve-{round}"), "alice", &clock, |t| {
                crate::bench::retag(t, &format!("CC-5{round:03}"))
            })?;
            refresh(&sb, &mut witnessed)?;
            cold(&sb);
            let (d, _) = timed(|| sb.approve("bob", &rel, "dev", &clock))?;
            line(
                "approve",
                "from scratch",
                d,
                &format!(
                    "no mirror: {} records planted from the witness's seeds",
                    crate::verified::planted()
                ),
            );
            refresh(&sb, &mut witnessed)?;
            warm();
            let (d, _) = timed(|| sb.approve("erin", &rel, "dev", &clock))?;
            line("approve", "incremental", d, "");
        }
        if decide && steps.has("promote") {
            // promote: a standard change (tags only) to dev, end to end (Terraform apply included).
            let a = sb.release(&format!("bench-std-a-{round}"), "alice", &clock, |t| {
                crate::bench::retag(t, &format!("CC-6{round:03}"))
            })?;
            refresh(&sb, &mut witnessed)?;
            cold(&sb);
            let (d, o) = timed(|| sb.promote(&a, "dev", "deployer-bot", &clock, 0))?;
            ensure!(
                o.admission.tier == Tier::Standard,
                "expected the standard tier, got {}",
                o.admission.tier
            );
            line("promote", "from scratch", d, &format!("standard change to dev, Terraform apply included; no mirror: {} records planted from the witness's seeds", crate::verified::planted()));
            let b = sb.release(&format!("bench-std-b-{round}"), "alice", &clock, |t| {
                crate::bench::retag(t, &format!("CC-7{round:03}"))
            })?;
            refresh(&sb, &mut witnessed)?;
            warm();
            let (d, o) = timed(|| sb.promote(&b, "dev", "deployer-bot", &clock, 0))?;
            ensure!(
                o.admission.tier == Tier::Standard,
                "expected the standard tier, got {}",
                o.admission.tier
            );
            line(
                "promote",
                "incremental",
                d,
                "standard change to dev, Terraform apply included",
            );
            // The releases now deployed to dev, where the next round's look-ups read them.
            publish_releases(&sb.releases_dir(), &stores, &[a, b])?;
        }
        if !decide && (steps.has("approve") || steps.has("promote")) {
            println!("  (approve and promote are not measured on a chain of many releases: its deployments wrote no Terraform state, so dev's facts gate refuses any later decision there)");
        }

        // Where the time goes (informative; after the decisions, which must not wait for it).
        if !steps.has("parts") {
            continue;
        }
        println!(
            "    (earlier head versions read from S3 through the mirror: {})",
            mirror_heads(&mirror, &sb)?
        );
        println!(
            "    (where a verification goes: {})",
            verify_parts(&mirror, &sb)?
        );
        if decide {
            println!("    (the replay's pass: {})", replay_parts(&sb)?);
        }
        // The same incremental verification, with the mirror's held heads removed: every earlier
        // head version read from S3 again (what a command through the mirror did before it held them).
        warm();
        let _ = std::fs::remove_file(mirror.path().with_extension("heads.jsonl"));
        let (d, n) = verify_now()?;
        line("verify", "incremental", d, &format!("{n} records, 0 new, WITHOUT the held heads (each earlier head version read from S3)"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The witness (on its schedule): a full listing co-signed with its checkpoint, and its mirror
/// seeds. Returns when it signed.
fn witness(sb: &Sandbox) -> Result<Instant> {
    witness_as(sb, None)
}

/// The witness ([`witness_as`], its line labelled `how`), then its replay verdicts (every
/// deployment must be admitted): what the witness's job does on its schedule. Returns when the
/// witness signed.
fn witness_and_verdicts(sb: &Sandbox, how: &str) -> Result<Instant> {
    let signed = witness_as(sb, Some(how))?;
    let (d, p) = timed(|| sb.witness_verdicts())?;
    let p = p.context("an S3 chain to replay")?;
    line(
        "witness",
        &format!("verdicts {how}"),
        d,
        &format!(
            "{} records, the deployments {} replayed, {} rejected, signed",
            p.verdicts.size,
            p.from.map(|n| format!("from record {n} on (those before it from its own last verdicts)")).unwrap_or_else(|| "all".into()),
            p.verdicts.rejected.len()
        ),
    );
    ensure!(p.verdicts.rejected.is_empty(), "the benchmark's chain holds deployments without a valid admission: {:?}", p.verdicts.rejected);
    Ok(signed)
}

/// [`witness`], its line labelled `how` (by how it read the chain when `None`).
fn witness_as(sb: &Sandbox, label: Option<&str>) -> Result<Instant> {
    let started = Instant::now();
    let (d, w) = timed(|| sb.witness())?;
    let w = w.context("a chain to witness")?;
    ensure!(
        w.checkpoint.listing.is_some(),
        "the witness vouched for no listing: {:?}",
        w.findings
    );
    let seeded = w
        .seeded
        .map_err(|e| anyhow::anyhow!("the witness wrote no mirror seeds: {e}"))?;
    let (how, read) = match &w.read {
        lz_evidence::witness::Kept::Incremental { kept, carried } => (
            "incremental",
            format!("{kept} records from its state ({carried} signatures carried to its own last note), the rest from S3"),
        ),
        lz_evidence::witness::Kept::Full(why) => ("full listing", format!("every record from S3: {why}")),
    };
    let how = label.unwrap_or(how);
    line(
        "witness",
        how,
        d,
        &format!(
            "{} records witnessed, every object version listed; {read}; {seeded} new seed segment(s)",
            w.checkpoint.size
        ),
    );
    Ok(started)
}

/// Before a decision: the witness co-signs a fresh checkpoint when the last one is older than
/// [`FRESH_WITNESS`] (a decision's unauthenticated clock is held to it).
fn refresh(sb: &Sandbox, witnessed: &mut Instant) -> Result<()> {
    if witnessed.elapsed() >= FRESH_WITNESS {
        println!("    (the witnessed checkpoint is {:.0}s old: the witness co-signs again before the decision)", witnessed.elapsed().as_secs_f64());
        *witnessed = witness(sb)?;
    }
    Ok(())
}

/// Threads publishing releases, each with its own S3 client and runtime.
const PUBLISHERS: usize = 8;

/// Publishes the releases `digests` of the sandbox's local release directory `dir` to the S3
/// release bucket of `stores` as `release publish` stores them (their own archive and manifest,
/// conditional PUTs, the archive hashed to its digest first), [`PUBLISHERS`] at a time. Returns
/// how many were new.
fn publish_releases(dir: &Path, stores: &Stores, digests: &[String]) -> Result<usize> {
    if digests.is_empty() {
        return Ok(0);
    }
    let chunk = digests.len().div_ceil(PUBLISHERS);
    std::thread::scope(|s| {
        let workers: Vec<_> = digests
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<usize> {
                    let store = stores.releases()?;
                    let mut new = 0;
                    for d in part {
                        let at = dir.join(d);
                        let archive = std::fs::read(at.join(lz_evidence::release::ARCHIVE_NAME))?;
                        let manifest = std::fs::read(at.join(lz_evidence::release::MANIFEST_NAME))?;
                        new += usize::from(store.publish(d, &archive, &manifest)?);
                    }
                    Ok(new)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().map_err(|_| anyhow::anyhow!("a publishing thread panicked"))?).sum()
    })
}

/// `xtask evidence query --resource ADDRESS --env dev` run by the `xtask` binary `exe` as a separate
/// process in the sandbox's tree (its stores file names the benchmark's buckets), as a user runs
/// it: once to warm its mirror (checked: the answer is found and its plan re-rendered from the
/// release matches), then three times, timed. Returns the median and the three figures.
fn query_process(exe: &Path, sb: &Sandbox, address: &str) -> Result<(Duration, String)> {
    let run = |format: &[&str]| -> Result<(Duration, String)> {
        let t = Instant::now();
        let args: Vec<&str> = ["evidence", "query", "--resource", address, "--env", "dev"].into_iter().chain(format.iter().copied()).collect();
        let out = duct::cmd(exe, &args)
            .env("LZ_ROOT", &sb.tree)
            .dir(&sb.tree)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        ensure!(out.status.success(), "`xtask evidence query --resource {address} --env dev` failed ({}): {stdout}{}", out.status, String::from_utf8_lossy(&out.stderr));
        Ok((took, stdout))
    };
    let (_, json) = run(&["--format", "json"])?;
    let v: serde_json::Value = serde_json::from_str(&json).with_context(|| format!("the look-up's JSON: {json}"))?;
    ensure!(v["found"] == true && v["plan_matches"] == true, "the look-up did not answer from a matching plan: {json}");
    let mut runs = (0..3).map(|_| run(&[]).map(|(d, _)| d)).collect::<Result<Vec<_>>>()?;
    let shown: Vec<String> = runs.iter().map(|d| format!("{:.2}s", d.as_secs_f64())).collect();
    runs.sort();
    Ok((runs[1], shown.join(", ")))
}

/// The address of the first resource inside a module of a plan's `planned_values` module.
fn first_module_resource(module: &serde_json::Value) -> Option<String> {
    module["child_modules"].as_array()?.iter().find_map(|m| {
        m["resources"].as_array().and_then(|r| r.first()).and_then(|r| r["address"].as_str()).map(String::from).or_else(|| first_module_resource(m))
    })
}

/// The provenance lookup in its parts, each timed, as in a new process with the mirror (the
/// releases from `paths`: the S3 release bucket): the one verification, the replay of every
/// deployment's admission, the index and the answer.
fn provenance_parts(paths: &crate::Paths, address: &str) -> Result<String> {
    crate::verified::forget_all();
    crate::replay::forget_verdicts();
    let t = Instant::now();
    let ledger = crate::ledger::Ledger::open_checked(&paths.trust, &paths.evidence, Some(paths.mirror_dir()), &[], &[])?;
    let snapshot = ledger.snapshot()?;
    let verify = t.elapsed();
    let t = Instant::now();
    let deployments = snapshot.records.iter().filter(|r| r.deployment_outcome() == Some("succeeded")).count();
    let opened = lz_promote::opened::Opened::shared();
    let rejected: Vec<(u64, String)> = crate::replay::rejected_in(&opened, &paths, &ledger, &snapshot.records)?.into_iter().collect();
    let replay = t.elapsed();
    let t = Instant::now();
    let index = lz_evidence::query::Index::from_verified(&snapshot.chain);
    let index_took = t.elapsed();
    let query = lz_evidence::query::Query { index: &index, source: lz_evidence::query::Source::Verified(&snapshot.chain.records), range: Default::default() };
    // The answer: first the answering release opened and its plan rendered (what the answer
    // reads through the same pass), then the rest of it.
    let t = Instant::now();
    let skip = rejected.iter().map(|(s, _)| *s).collect();
    let deployed = query.deployed("dev", None, &skip)?.context("nothing deployed to dev")?;
    opened.open(&paths, &deployed.release)?.plan("dev")?;
    let render = t.elapsed();
    let t = Instant::now();
    lz_promote::provenance::resource_in(&opened, &paths, &query, "dev", address, None, &rejected)?;
    let answer = t.elapsed() + render;
    Ok(format!(
        "verification {:.3}s, replay of {deployments} successful deployments {:.3}s, index {:.3}s, answer {:.3}s (of which the answering release opened and its plan rendered {:.3}s; {} archive(s) opened)",
        verify.as_secs_f64(),
        replay.as_secs_f64(),
        index_took.as_secs_f64(),
        answer.as_secs_f64(),
        render.as_secs_f64(),
        opened.opens()
    ))
}

/// The replay in its parts, as the look-up runs it (one pass, the releases of the pass shared):
/// per deployment, its session (its release and the governing one opened, their plans rendered,
/// unless an earlier deployment of the pass did), the policy evaluation and the gates; then how
/// many archives the pass opened.
fn replay_parts(sb: &Sandbox) -> Result<String> {
    crate::replay::forget_verdicts();
    let ledger = crate::ledger::Ledger::open_checked(&sb.paths.trust, &sb.paths.evidence, Some(sb.paths.mirror_dir()), &[], &[])?;
    let records = ledger.records()?;
    let opened = lz_promote::opened::Opened::shared();
    let mut out = Vec::new();
    for d in records.iter().filter(|r| r.deployment_outcome() == Some("succeeded")) {
        let env = d.environment.clone().unwrap_or_default();
        let Some(at) = d.deployment().and_then(|x| x.in_progress_record) else { continue };
        let Some(ip) = records.iter().find(|x| x.sequence == at) else { continue };
        let t = Instant::now();
        let before: Vec<_> = records.iter().filter(|x| x.sequence < at).cloned().collect();
        let clone = t.elapsed();
        let (opens, t) = (opened.opens(), Instant::now());
        let session = crate::session::Session::from_records_in(&opened, &sb.paths, &ledger, before, &d.release, &env)?;
        let (session_took, opens) = (t.elapsed(), opened.opens() - opens);
        let t = Instant::now();
        let policy = session.evaluate_policy(ip.time)?;
        let evaluate = t.elapsed();
        let t = Instant::now();
        let admitted = session.admit(&ip.identity, &policy, ip.time).is_ok();
        let gates = t.elapsed();
        out.push(format!(
            "#{} records {:.2}s session {:.2}s ({opens} opened) policy {:.2}s gates {:.2}s{}",
            d.sequence,
            clone.as_secs_f64(),
            session_took.as_secs_f64(),
            evaluate.as_secs_f64(),
            gates.as_secs_f64(),
            if admitted { "" } else { " (refused)" }
        ));
    }
    out.push(format!("{} archives opened in all", opened.opens()));
    Ok(out.join("; "))
}

/// The parts of a verification through the mirror, each timed alone: the store's anchors read
/// WITHOUT the mirror (the signed head, the listing of every object version, and every earlier
/// head fetched, so an upper bound of what the mirrored path reads from S3), the records
/// after the mirror, and the mirrored records verified again on this machine (no S3).
fn verify_parts(mirror: &Mirror, sb: &Sandbox) -> Result<String> {
    let store = sb.paths.evidence.open()?;
    let root = &sb.paths.trust;
    let (anchors, d_anchors) = {
        let calls = lz_platform::s3_calls::Calls::now();
        let t = Instant::now();
        let a = lz_evidence::verify::Anchors::of_store(&*store, Vec::new())?;
        (format!("{} earlier heads, {}", a.earlier_heads.len(), lz_platform::s3_calls::Calls::since(calls)), t.elapsed())
    };
    let local = LocalStore::new(mirror.path());
    let t = Instant::now();
    let n = lz_evidence::verify_chain(&local.load()?, root)?.records.len();
    let d_local = t.elapsed();
    Ok(format!(
        "anchors without the mirror {:.2}s ({anchors}), the {n} mirrored records verified again without S3 {:.2}s",
        d_anchors.as_secs_f64(),
        d_local.as_secs_f64()
    ))
}

/// How many earlier head versions a verification through the mirror reads from S3 now (one new
/// process, after the timed ones: the mirror holds the rest).
fn mirror_heads(mirror: &Mirror, sb: &Sandbox) -> Result<String> {
    crate::verified::forget_all();
    let store = sb.paths.evidence.open()?;
    mirror.verify(&store, &sb.paths.trust, &[], &[])?;
    Ok(mirror.heads_read().map_or_else(|| "unknown".into(), |n| n.to_string()))
}

thread_local! {
    /// The S3 requests of the last [`timed`] step, printed by [`line`].
    static CALLS: std::cell::Cell<Option<lz_platform::s3_calls::Calls>> = const { std::cell::Cell::new(None) };
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(Duration, T)> {
    lz_evidence::bench::reset_peak_memory();
    let calls = lz_platform::s3_calls::Calls::now();
    let start = Instant::now();
    let out = f()?;
    let took = start.elapsed();
    CALLS.with(|c| c.set(Some(lz_platform::s3_calls::Calls::since(calls))));
    Ok((took, out))
}

/// The goal of each figure (issue 36; the provenance lookup: issue 27), in seconds: `verify` of
/// a 100k-record chain from scratch < 30 s and after one new record < 1 s, `promote` of a
/// standard change < 10 s end to end, the provenance lookup with its verification < 1 s over
/// 10,000 releases (`--releases`). `approve` has no figure of its own: its goal is the flat line.
/// Last measured (release, `--releases 1000,10000`): the lookup 0.75 s over 1,000 releases (met,
/// load 4.4) and 0.88 s over 10,000 (met, load 2.3: verification 0.48 s, replay 0.01 s, index
/// 0.008 s, answer 0.18 s; no admission replayed, two archives opened); 1.86 s over 10,000 in an
/// earlier run at load 8.2 (verification 2.09 s).
fn goal(what: &str, how: &str) -> Option<f64> {
    match (what, how) {
        ("verify", "from scratch" | "seeded") => Some(30.0),
        ("verify", "incremental") => Some(1.0),
        ("promote", _) => Some(10.0),
        ("provenance", _) => Some(1.0),
        // Well inside the window a decision may follow a witnessed checkpoint ([`FRESH_WITNESS`]),
        // so that the witness can co-sign before every decision at any length.
        ("witness", "incremental" | "verdicts incremental") => Some(60.0),
        _ => None,
    }
}

fn line(what: &str, how: &str, d: Duration, note: &str) {
    let figure = d.as_secs_f64();
    let verdict = match goal(what, how) {
        Some(g) if figure < g => format!("goal < {g} s: met"),
        Some(g) => format!("goal < {g} s: NOT met"),
        None => "goal: flat across lengths".to_string(),
    };
    println!(
        "  {what:<10} {how:<13} {figure:>8.2}s  {verdict:<22} peak {} (load average {}){}",
        lz_evidence::bench::peak_memory(),
        lz_evidence::bench::load_average(),
        if note.is_empty() { String::new() } else { format!("  {note}") }
    );
    if let Some(calls) = CALLS.with(|c| c.take()) {
        println!("    ({calls})");
    }
}

impl Sandbox {
    /// One new record (a "no drift" record of the padding environment), appended as a command would.
    fn drift_note(&self, clock: &Clock) -> Result<()> {
        let release = lz_evidence::dsse::sha256_hex(b"bench padding");
        let now = clock.now()?.time;
        let account = self.target(PADDING_ENV)?.account_id;
        let fields = DriftEvidence::new(&release, PADDING_ENV, &account, vec![]).with(|f| f.at(now)).into_fields()?;
        self.ledger()?.append(Kind::Drift, fields, self.signer("deployer-bot"))?;
        Ok(())
    }
}

/// Appends `n` signed padding records to the S3 chain ([`append_via_copy`]).
fn pad(sb: &Sandbox, store: &S3Store, dir: &Path, n: usize) -> Result<usize> {
    if n == 0 {
        return Ok(0);
    }
    let signer = sb.signer("deployer-bot");
    let release = lz_evidence::dsse::sha256_hex(b"bench padding");
    let account = sb.target(PADDING_ENV)?.account_id;
    let time = time::OffsetDateTime::now_utc();
    append_via_copy(sb, store, dir, |archive, _| {
        let mut left = n;
        while left > 0 {
            let batch = left.min(5000);
            let items = (0..batch)
                .map(|_| -> Result<_> {
                    let f = DriftEvidence::new(&release, PADDING_ENV, &account, vec![])
                        .with(|f| f.at(time))
                        .into_fields()?;
                    Ok((Kind::Drift, f, signer))
                })
                .collect::<Result<Vec<_>>>()?;
            archive.append_many(items)?;
            left -= batch;
        }
        Ok(vec![signer; n])
    })
}

/// One in this many of the benchmark's releases is deployed to dev (the others are built,
/// signed and never deployed, as most releases of a busy landing zone never reach an environment
/// before a later one supersedes them).
pub const DEPLOYED_EVERY: usize = 10;

/// The releases the benchmark added to the chain so far, and what their deployments copy.
struct Grown {
    releases: usize,
    deployed: usize,
    /// The release of dev's last deployment (the next deployment's governing release).
    last_deployed: String,
    /// Every release deployed to dev (the template's first), in order: the ones a lookup or a
    /// replay opens, published to the S3 release bucket ([`publish_releases`]).
    deployed_releases: Vec<String>,
    template: Template,
}

/// A real promotion to dev ([`Sandbox::promote`], Terraform apply included) of a release whose
/// plan is the deployed one's: its release record and archive, the records of its decision (the
/// policy evaluation and the approvals its promotion recorded, the automatic one of a standard
/// change included) and of its deployment (decision point, success), which every later
/// deployment of the benchmark repeats for its own release.
struct Template {
    release: Record,
    archive: Vec<u8>,
    manifest: serde_json::Value,
    /// The tag in the template's `environments/main.tf` (the only byte run a copy changes).
    tag: String,
    /// The policy evaluation and approvals of the template's release, in chain order.
    decision: Vec<Record>,
    started: Record,
    succeeded: Record,
}

/// A release's tag: fixed width, so that a copy of the template's archive differs only in those
/// bytes (the tar headers and their checksums stay right).
fn release_tag(i: usize) -> String {
    format!("bench-many-{i:07}")
}

/// Grows the chain to `want` releases. The first call promotes a template release to dev for
/// real. Every further release is a copy of the template's archive with its own tag in
/// `environments/main.tf` (so its own digest; the plan it renders is the template's), stored
/// where releases are read from, with its release record signed by its author; one in
/// [`DEPLOYED_EVERY`] is deployed to dev with the template's records for its release (policy
/// evaluation, approvals, decision point, success), each naming its own records and governed by
/// the previous deployment's release. Nothing of what a look-up or a replay checks is assumed:
/// the witness's replay of every deployment must admit each (`run_with` refuses a round where it
/// rejects one), and the look-up re-renders the deployed release's plan from its own archive.
/// Signed on a local copy and written with parallel conditional PUTs ([`append_via_copy`]).
fn grow_releases(
    sb: &Sandbox,
    store: &S3Store,
    dir: &Path,
    clock: &Clock,
    grown: Option<Grown>,
    want: usize,
) -> Result<Grown> {
    let mut g = match grown {
        Some(g) => g,
        None => {
            let tag = release_tag(0);
            let digest = sb.release(&tag, "alice", clock, |_| Ok(()))?;
            let o = sb.promote(&digest, "dev", "deployer-bot", clock, 0)?;
            ensure!(
                o.admission.tier == Tier::Standard,
                "expected the template's promotion to be a standard change, got {}",
                o.admission.tier
            );
            let records = sb.ledger()?.records()?;
            let at = |seq: u64| {
                records
                    .iter()
                    .find(|r| r.sequence == seq)
                    .cloned()
                    .with_context(|| format!("record {seq} of the template's promotion"))
            };
            let release = lz_promote::chain::author_of(&records, &digest)
                .cloned()
                .context("the template's release record")?;
            let decision = records
                .iter()
                .filter(|r| {
                    r.release == digest
                        && r.sequence < o.in_progress_record
                        && matches!(r.kind, Kind::PolicyEvaluation | Kind::Approval)
                })
                .cloned()
                .collect();
            let stored = sb.releases_dir().join(&digest);
            let template = Template {
                archive: std::fs::read(stored.join(lz_evidence::release::ARCHIVE_NAME))?,
                manifest: serde_json::from_slice(&std::fs::read(
                    stored.join(lz_evidence::release::MANIFEST_NAME),
                )?)?,
                tag,
                release,
                decision,
                started: at(o.in_progress_record)?,
                succeeded: at(o.completion_record)?,
            };
            Grown {
                releases: 1,
                deployed: 1,
                last_deployed: digest.clone(),
                deployed_releases: vec![digest],
                template,
            }
        }
    };
    if want <= g.releases {
        return Ok(g);
    }
    let t = &g.template;
    let at = t
        .archive
        .windows(t.tag.len())
        .position(|w| w == t.tag.as_bytes())
        .context("the template's archive carries its tag")?;
    ensure!(
        t.archive[at + 1..]
            .windows(t.tag.len())
            .all(|w| w != t.tag.as_bytes()),
        "the template's tag appears twice in its archive"
    );
    let (author, deployer) = (
        sb.signer_of(&t.release.identity)?,
        sb.signer_of(&t.started.identity)?,
    );
    let deciders = t
        .decision
        .iter()
        .map(|r| sb.signer_of(&r.identity))
        .collect::<Result<Vec<_>>>()?;
    let started = t
        .started
        .deployment()
        .context("the template's decision point")?;
    let succeeded = t.succeeded.deployment().context("the template's success")?;
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let (first, mut releases, mut deployed, mut last) =
        (g.releases, g.releases, g.deployed, g.last_deployed.clone());
    let mut newly = Vec::new();
    append_via_copy(sb, store, dir, |archive, next| {
        let mut items: Vec<(Kind, Fields, &Signer)> = Vec::new();
        for i in first..want {
            let tag = release_tag(i);
            let mut bytes = t.archive.clone();
            bytes[at..at + tag.len()].copy_from_slice(tag.as_bytes());
            let digest = lz_evidence::dsse::sha256_hex(&bytes);
            // Only the archives of deployed releases are kept (and published): no replay or
            // look-up opens another, and 10,000 archives of about 1 MB would fill the disk.
            if i % DEPLOYED_EVERY == 0 {
                let stored = sb.releases_dir().join(&digest);
                std::fs::create_dir_all(&stored)?;
                std::fs::write(stored.join(lz_evidence::release::ARCHIVE_NAME), &bytes)?;
                let mut manifest = t.manifest.clone();
                manifest["digest"] = digest.clone().into();
                manifest["reason"] = format!("sandbox release {tag}").into();
                std::fs::write(
                    stored.join(lz_evidence::release::MANIFEST_NAME),
                    serde_json::to_vec_pretty(&manifest)?,
                )?;
            }
            items.push((
                Kind::Release,
                like(&t.release, &digest, now).reason(format!("sandbox release {tag}")),
                author,
            ));
            releases += 1;
            if i % DEPLOYED_EVERY != 0 {
                continue;
            }
            // The template's sequences, as this deployment's records have them.
            let mut renumbered = std::collections::BTreeMap::new();
            for (r, signer) in t.decision.iter().zip(&deciders) {
                renumbered.insert(r.sequence, next + items.len() as u64);
                items.push((r.kind, like(r, &digest, now), *signer));
            }
            let renumber = |s: u64| {
                renumbered.get(&s).copied().with_context(|| {
                    format!(
                        "the template's decision point names record {s}, not one of its decision"
                    )
                })
            };
            let run = format!("{}-{i}", started.run.clone().unwrap_or_default());
            let mut d = started.clone();
            d.run = Some(run.clone());
            d.policy_evaluation = d.policy_evaluation.map(renumber).transpose()?;
            d.approvals = d
                .approvals
                .map(|a| a.into_iter().map(renumber).collect::<Result<_>>())
                .transpose()?;
            d.governance_release = Some(last.clone());
            d.state_before = None;
            let decided = next + items.len() as u64;
            items.push((
                Kind::Deployment,
                like(&t.started, &digest, now).details(d),
                deployer,
            ));
            let mut d = succeeded.clone();
            d.run = Some(run);
            d.in_progress_record = Some(decided);
            // No Terraform ran: the record claims no state (`evidence verify` would find none).
            (d.state_serial, d.state_version, d.state_lineage) = (None, None, None);
            items.push((
                Kind::Deployment,
                like(&t.succeeded, &digest, now).details(d),
                deployer,
            ));
            deployed += 1;
            newly.push(digest.clone());
            last = digest;
        }
        let signers = items.iter().map(|(_, _, s)| *s).collect();
        for chunk in items.chunks(5000) {
            archive.append_many(chunk.to_vec())?;
        }
        Ok(signers)
    })?;
    (g.releases, g.deployed, g.last_deployed) = (releases, deployed, last);
    g.deployed_releases.extend(newly);
    Ok(g)
}

/// The fields of `r` for `release` at `time` (its details as they are: the caller changes what
/// names other records).
fn like(r: &Record, release: &str, time: time::OffsetDateTime) -> Fields {
    let mut f = Fields::new(release).at(time).details(r.details.clone());
    (f.environment, f.account, f.plan_digest, f.ticket, f.reason) = (
        r.environment.clone(),
        r.account.clone(),
        r.plan_digest.clone(),
        r.ticket.clone(),
        r.reason.clone(),
    );
    f
}

/// Appends to the S3 chain what `build` appends to a local copy of it (given the copy's archive
/// and the sequence its next record gets; it returns the signer of each record it appended):
/// signed on the copy, then written with parallel conditional PUTs, one signed head version
/// per new record but the last (signed by that record's signer, as its append leaves it),
/// and the head moved last.
fn append_via_copy<'s>(
    sb: &'s Sandbox,
    store: &S3Store,
    dir: &Path,
    build: impl FnOnce(&mut EvidenceArchive<LocalStore>, u64) -> Result<Vec<&'s Signer>>,
) -> Result<usize> {
    let records = store.load()?;
    let copy = dir.join("padding.jsonl");
    let head = store.head()?;
    lz_evidence::store::write_copy(&copy, &records, head.as_ref().map(|h| &h.bytes[..]))?;
    let register = sb.ledger()?.identities().clone();
    let mut archive = EvidenceArchive::open(LocalStore::new(&copy), register)?;
    let signers = build(&mut archive, records.len() as u64)?;
    let local = archive.into_store();
    let all = local.load()?;
    let new = &all[records.len()..];
    ensure!(
        new.len() == signers.len(),
        "{} records appended, {} signers named",
        new.len(),
        signers.len()
    );
    if new.is_empty() {
        return Ok(0);
    }
    let head = local.head()?.context("the padded copy has a head")?;
    // One signed head per new record but the last, as appends leave them (each an earlier
    // head version the verifier judges), written before the final head.
    let stamp = lz_evidence::record::format_time(time::OffsetDateTime::now_utc());
    let heads: Vec<Vec<u8>> = new[..new.len() - 1]
        .iter()
        .zip(&signers)
        .enumerate()
        .map(|(i, (r, signer))| {
            let cp = lz_evidence::Checkpoint {
                sequence: (records.len() + i) as u64,
                hash: lz_evidence::dsse::sha256_hex(&r.bytes),
                time: stamp.clone(),
            };
            lz_evidence::store::sign_checkpoint(&cp, signer)
        })
        .collect::<Result<_>>()?;
    let client = store.client().clone();
    let bucket = store.bucket().to_string();
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        let mut next = 0;
        loop {
            while next < new.len() && set.len() < PUTS {
                let (client, bucket) = (client.clone(), bucket.clone());
                let key = store.record_key((records.len() + next) as u64);
                let body = new[next].bytes.to_vec();
                set.spawn(put_retrying(client, bucket, key, body, true));
                next += 1;
            }
            match set.join_next().await {
                Some(done) => {
                    done.context("a PUT task failed")??;
                }
                None => break,
            }
        }
        let mut next = 0;
        loop {
            while next < heads.len() && set.len() < PUTS {
                let (client, bucket, key) = (client.clone(), bucket.clone(), store.head_key());
                let body = heads[next].clone();
                set.spawn(put_retrying(client, bucket, key, body, false));
                next += 1;
            }
            match set.join_next().await {
                Some(done) => {
                    done.context("a PUT task failed")??;
                }
                None => break,
            }
        }
        client
            .put_object()
            .bucket(&bucket)
            .key(store.head_key())
            .content_type("application/json")
            .body(ByteStream::from(head.bytes.to_vec()))
            .send()
            .await
            .map_err(crate::aws_error)
            .context("cannot write the head")?;
        anyhow::Ok(())
    })?;
    Ok(new.len())
}

/// One PUT of the padding, tried again on an error (a loaded LocalStack stalls now and then),
/// up to 5 attempts. With `once` (a record) it is written with `If-None-Match: *`, and a PUT
/// whose answer was lost is found by its bytes; a head version written twice is one more
/// earlier head naming the same record.
async fn put_retrying(client: aws_sdk_s3::Client, bucket: String, key: String, body: Vec<u8>, once: bool) -> Result<()> {
    let mut attempt = 0;
    loop {
        let put = client.put_object().bucket(&bucket).key(&key).content_type("application/json");
        let put = if once { put.if_none_match("*") } else { put };
        let Err(e) = put.body(ByteStream::from(body.clone())).send().await.map_err(crate::aws_error) else { return Ok(()) };
        attempt += 1;
        if once {
            if let Ok(got) = client.get_object().bucket(&bucket).key(&key).send().await {
                if got.body.collect().await.map(|b| b.into_bytes().to_vec() == body).unwrap_or(false) {
                    return Ok(());
                }
            }
        }
        if attempt >= 5 {
            return Err(e).with_context(|| format!("cannot write s3://{bucket}/{key}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// `--only`/`--skip`: the default runs every step but `unseeded`; `--only` runs exactly the
    /// steps named, `--skip` the default ones but those; an unknown or empty name, or both
    /// lists, is an error naming the steps there are.
    #[test]
    fn steps_are_selected_by_name_and_a_bad_name_names_the_steps() {
        let all = Steps::default();
        assert_eq!(all.names(), "verify,witness,verdicts,provenance,approve,promote,parts");
        assert!(!all.has("unseeded"));
        assert_eq!(Steps::select(&[], &[]).unwrap(), all);
        let only = Steps::select(&names(&["verify", "unseeded", "promote"]), &[]).unwrap();
        assert_eq!(only.names(), "verify,unseeded,promote");
        let skip = Steps::select(&[], &names(&["parts", "provenance"])).unwrap();
        assert_eq!(skip.names(), "verify,witness,verdicts,approve,promote");
        let listed = "verify, unseeded, witness, verdicts, provenance, approve, promote, parts";
        for (only, skip) in [(names(&["verfy"]), vec![]), (vec![], names(&["verify", "nope"])), (names(&[""]), vec![]), (vec![], names(&[" "]))] {
            let e = Steps::select(&only, &skip).unwrap_err();
            assert!(e.contains(listed), "{only:?} {skip:?}: {e}");
        }
        assert!(Steps::select(&names(&["verify"]), &names(&["parts"])).unwrap_err().contains("do not go together"));
        // The help names every step.
        for (n, _) in STEPS {
            assert!(steps_help().contains(&format!("{n}: ")), "{n}");
        }
    }
}
