//! Throughput figures for `cargo xtask bench evidence`: append, verify (10k/50k/100k records)
//! and resource queries over the evidence of 10,000 releases.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::archive::EvidenceArchive;
use crate::dsse::sha256_hex;
use crate::identity::{encode_public_key, generate_key, Identities, Signer};
use crate::query::{Index, Query, Source, TimeRange};
use crate::record::{ApprovalEvidence, DeploymentEvidence, EvidenceBuilder, Fields, Kind, PlanEvidence, PolicyEvaluationEvidence};
use crate::store::{Checkpoint, LocalStore, Store};
use crate::verify::{report_of_store, verify, Anchors, Strategy, TrustRoot};

pub struct Team {
    pub identities: Identities,
    pub deployer: Signer,
    pub approver: Signer,
}

/// A throwaway register with one deployer and one approver.
pub fn team() -> Result<Team> {
    let d = generate_key();
    let a = generate_key();
    let text = format!(
        "[identity.deploy-bot]\nname = \"Deployment pipeline\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{}\"\n\n\
         [identity.approver]\nname = \"Approver\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{}\"\n",
        encode_public_key(&d.verifying_key()),
        encode_public_key(&a.verifying_key())
    );
    Ok(Team {
        identities: Identities::parse(&text, "bench identities")?,
        deployer: Signer::new("deploy-bot", d),
        approver: Signer::new("approver", a),
    })
}

pub fn digest_of(tag: &str, i: usize) -> String {
    sha256_hex(format!("{tag}-{i}").as_bytes())
}

/// A small plan in `terraform show -json` shape naming `resources`.
pub fn sample_plan(resources: &[String]) -> Vec<u8> {
    let changes: Vec<_> = resources
        .iter()
        .map(|a| {
            json!({"address": a, "mode": "managed", "type": a.split('.').next().unwrap_or("x"), "name": "this",
                   "change": {"actions": ["create"], "before": null,
                              "after": {"bucket": a, "tags": {"Owner": "platform"}, "password": "never-stored"},
                              "after_sensitive": {"password": true}}})
        })
        .collect();
    serde_json::to_vec(&json!({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": changes}))
        .expect("plans serialize")
}

/// Six records per release: plan and deployment in dev, plan, policy evaluation, approval
/// and deployment in prod.
pub fn release_records(t: &Team, i: usize) -> Result<Vec<(Kind, Fields, &Signer)>> {
    let release = digest_of("release", i);
    let resources: Vec<String> = (0..5).map(|r| format!("module.m{}.aws_s3_bucket.b{r}", (i + r) % 50)).collect();
    let plan = sample_plan(&resources);
    let mut out = Vec::new();
    for (env, account) in [("dev", "111111111111"), ("prod", "555555555555")] {
        let p = PlanEvidence::from_bytes(&release, env, account, &plan)?.with(|f| f.ticket(format!("CHG-{i}")));
        let digest = sha256_hex(&plan);
        out.push((Kind::Plan, p.into_fields()?, &t.deployer));
        if env == "prod" {
            out.push((
                Kind::PolicyEvaluation,
                PolicyEvaluationEvidence::new(&release, env, &digest, &digest_of("policy", 0), true, vec![]).into_fields()?,
                &t.deployer,
            ));
            out.push((Kind::Approval, ApprovalEvidence::new(&release, env, &digest, &format!("CHG-{i}")).into_fields()?, &t.approver));
        }
        out.push((
            Kind::Deployment,
            DeploymentEvidence::new(&release, env, account, &digest, true, resources.clone()).into_fields()?,
            &t.deployer,
        ));
    }
    Ok(out)
}

/// The 1, 5 and 15 minute load averages of the machine (`/proc/loadavg`).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Resets the peak resident memory to the current one (`5` into `/proc/self/clear_refs`) and
/// returns the current one, so that the next [`peak_memory`] is the peak of what follows.
pub fn reset_peak_memory() -> String {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l["VmRSS:".len()..].trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// Peak resident memory of this process so far (`VmHWM` of `/proc/self/status`).
pub fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l["VmHWM:".len()..].trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Appends the records of releases `0..releases` in batches; returns the elapsed time.
pub fn fill(archive: &mut EvidenceArchive<LocalStore>, t: &Team, releases: std::ops::Range<usize>) -> Result<Duration> {
    let start = Instant::now();
    let mut batch = Vec::new();
    for i in releases {
        batch.extend(release_records(t, i)?);
        if batch.len() >= 6000 {
            archive.append_many(std::mem::take(&mut batch))?;
        }
    }
    archive.append_many(batch)?;
    Ok(start.elapsed())
}

pub fn run(root: &Path) -> Result<()> {
    let dir = root.join(".tools/bench/evidence");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let t = team()?;

    // Durable appends, one fsync each.
    let mut single = EvidenceArchive::open(LocalStore::new(dir.join("single.jsonl")), t.identities.clone())?;
    let n_single = 300;
    let start = Instant::now();
    for i in 0..n_single / 6 {
        for (kind, fields, signer) in release_records(&t, i)? {
            single.append(kind, fields, signer)?;
        }
    }
    let d = start.elapsed();
    println!("append (fsync per record):   {n_single:>7} records in {d:>9.2?}  {:>9.0} records/s", per_sec(n_single, d));

    // 100,002 records (16,667 releases) in batches of 6,000.
    let store = LocalStore::new(dir.join("chain.jsonl"));
    let mut archive = EvidenceArchive::open(store, t.identities.clone())?;
    let releases = 100_002 / 6;
    let d = fill(&mut archive, &t, 0..releases)?;
    let total = archive.next_sequence() as usize;
    println!("append (batches of 6,000):   {total:>7} records in {d:>9.2?}  {:>9.0} records/s", per_sec(total, d));

    let store = archive.into_store();

    // Streaming passes over the store, as `verify_store` does: read a window at a time while
    // the windows before are verified. The median of five passes is the figure (the machines
    // are noisy); all five are printed.
    let root = TrustRoot::register(t.identities.clone(), "bench identities");
    let anchors = Anchors::of_store(&store, Vec::new())?;
    let before = reset_peak_memory();
    let mut passes = Vec::new();
    let mut count = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let report = report_of_store(&store, &root, &anchors, Strategy::default())?;
        passes.push(start.elapsed());
        anyhow::ensure!(report.ok(), "benchmark chain failed verification: {:?}", report.failure);
        count = report.records;
    }
    let shown: Vec<String> = passes.iter().map(|d| format!("{:.0?}", d)).collect();
    passes.sort();
    let d = passes[passes.len() / 2];
    println!(
        "load + verify {count} records: {d:>9.2?}  goal < 1 s: {}  (median of 5 streaming passes: {}; {} threads, batches of {}; load average {}; peak resident memory {} during the passes, {before} before them)",
        if d.as_secs_f64() < 1.0 { "met" } else { "NOT met" },
        shown.join(", "),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        crate::verify::BATCH,
        load_average(),
        peak_memory(),
    );

    // The whole store in memory, then prefixes of it.
    let start = Instant::now();
    let records = store.load()?;
    let load = start.elapsed();
    let size = store.len()?;
    println!("load {} records ({:.1} MiB):    {load:>9.2?}", records.len(), size as f64 / (1 << 20) as f64);
    for n in [10_000usize, 50_000, 100_000] {
        let part = &records[..n];
        let cp = Checkpoint { sequence: n as u64 - 1, hash: sha256_hex(&part[n - 1].bytes), time: String::new() };
        let start = Instant::now();
        let report = verify(part, Some(&cp), &t.identities)?;
        let d = start.elapsed();
        anyhow::ensure!(report.ok(), "benchmark chain failed verification: {:?}", report.failure);
        println!(
            "verify {n:>7} records:       {d:>9.2?}  {:>9.0} records/s  {:.2} µs/record",
            per_sec(n, d),
            d.as_secs_f64() * 1e6 / n as f64
        );
    }
    drop(records);


    // Query over 10,000 releases (60,000 records).
    let qstore = LocalStore::new(dir.join("releases.jsonl"));
    let mut qarchive = EvidenceArchive::open(qstore, t.identities.clone())?;
    fill(&mut qarchive, &t, 0..10_000)?;
    let qstore = qarchive.into_store();
    let start = Instant::now();
    let index = Index::for_local(&qstore)?;
    println!("index build {} records:       {:>9.2?}", index.entries.len(), start.elapsed());
    let address = "module.m7.aws_s3_bucket.b0";
    let mut worst = Duration::ZERO;
    let mut found = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let index = Index::for_local(&qstore)?;
        let q = Query { index: &index, source: Source::Local(&qstore), range: TimeRange::default() };
        let rows = q.resource(address, "prod")?;
        found = rows.len();
        worst = worst.max(start.elapsed());
    }
    println!(
        "query --resource {address} --env prod over 10,000 releases: {worst:>9.2?} worst of 5 (index load + lookup + reads; {found} releases; goal < 1 s: {}; load average {}; peak resident memory {})",
        if worst.as_secs_f64() < 1.0 { "met" } else { "NOT met" },
        load_average(),
        peak_memory()
    );
    let start = Instant::now();
    let index = Index::for_local(&qstore)?;
    let q = Query { index: &index, source: Source::Local(&qstore), range: TimeRange::default() };
    let c = q.release(&digest_of("release", 4242))?;
    println!("query --release over 10,000 releases: {:>9.2?} ({} environments)", start.elapsed(), c.environments.len());
    provenance_bench(&qstore, &t)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `evidence query --resource ADDRESS --env prod [--at TIME]` over 10,000 releases, as the
/// command answers it: the chain verified now, its index, the governing deployment and its
/// admission (the plan re-rendered from the release archive is one render, whatever the
/// number of releases: `cargo xtask bench promote` measures renders).
fn provenance_bench(store: &LocalStore, t: &Team) -> Result<()> {
    let root = TrustRoot::register(t.identities.clone(), "bench identities");
    let records = store.load()?;
    let mut worst = Duration::ZERO;
    let mut worst_lookup = Duration::ZERO;
    let mut release = String::new();
    let mid = {
        let chain = crate::verify::verify_chain_with(&records, &root, &Anchors::default())?;
        crate::record::parse_time(&chain.records[chain.records.len() / 2].statement.predicate.time)?
    };
    for at in [None, Some(mid)] {
        for _ in 0..3 {
            let start = Instant::now();
            let chain = crate::verify::verify_chain_with(&records, &root, &Anchors::default())?;
            let index = Index::from_verified(&chain);
            let lookup = Instant::now();
            let q = Query { index: &index, source: Source::Memory(&records), range: TimeRange::default() };
            let d = q.deployed("prod", at, &Default::default())?.ok_or_else(|| anyhow::anyhow!("no deployment in prod"))?;
            anyhow::ensure!(!d.approvals.is_empty() && d.policy_evaluation.is_some(), "the admission of the bench deployment is incomplete");
            release = d.release;
            worst_lookup = worst_lookup.max(lookup.elapsed());
            worst = worst.max(start.elapsed());
        }
    }
    println!(
        "query --resource (governing deployment and admission, now and --at) over 10,000 releases: {worst:>9.2?} worst of 6 with verification, {worst_lookup:.2?} lookup alone (last release {}; goal < 1 s: {})",
        crate::record::short(&release),
        if worst.as_secs_f64() < 1.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
