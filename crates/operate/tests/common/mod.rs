//! Helpers the promotion tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lz_promote::clock::Clock;
use lz_operate::sandbox::Sandbox;
use lz_promote::stores::Stores;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// LocalStack, started through the harness (a test that needs it fails loudly without it).
pub fn endpoint() -> String {
    lz_platform::localstack::require(&root()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A short name part unique to this moment, for buckets, secrets and roles of one test.
pub fn nonce() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}", n % 0xff_ffff_ffff)
}

/// The repository's stores under names of their own, created as `bootstrap --stores` does.
pub fn own_stores() -> Stores {
    let mut s = Stores::load(&root(), &endpoint()).unwrap();
    let n = nonce();
    s.release_bucket = format!("{}-{n}", s.release_bucket);
    s.evidence_bucket = format!("{}-{n}", s.evidence_bucket);
    s.witness_bucket = format!("{}-{n}", s.witness_bucket);
    let plan = lz_promote::release::render_env(&root(), &s.environment).unwrap();
    lz_operate::bootstrap::bootstrap_stores(&s, &plan).unwrap();
    s
}

/// A sandbox of its own under a fresh temporary directory.
pub fn sandbox(name: &str) -> (tempfile::TempDir, Sandbox) {
    let endpoint = endpoint();
    let dir = tempfile::Builder::new()
        .prefix(&format!("lz-promote-{name}-"))
        .tempdir()
        .unwrap();
    let sb = Sandbox::new(&root(), &endpoint, dir.path()).unwrap();
    (dir, sb)
}

/// Saturday noon: every window open.
pub fn open_time() -> Clock {
    Clock::Fixed(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
}

/// A release of the sandbox tree by alice, its exceptions approved, pinned as the governance of
/// every environment (the first pin of an environment stands).
pub fn release(sb: &Sandbox, tag: &str, clock: &Clock) -> String {
    let r = sb.release(tag, "alice", clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, clock).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, clock).unwrap();
    }
    r
}

/// Takes `release` through `envs` with the approvals the high tier needs, drift-checking each.
pub fn promote_through(sb: &Sandbox, release: &str, envs: &[&str], clock: &Clock) {
    for env in envs {
        sb.bootstrap(env, release).unwrap();
        let second = if *env == "prod" { "carol" } else { "erin" };
        sb.approve("bob", release, env, clock).unwrap();
        sb.approve(second, release, env, clock).unwrap();
        let o = sb
            .promote(release, env, "deployer-bot", clock, 0)
            .unwrap_or_else(|e| panic!("{env}: {e:#}"));
        assert_eq!(o.admission.tier, lz_promote::Tier::High);
        let d = sb.drift(env, clock).unwrap();
        assert!(!d.drifted(), "{env} drifted: {:?}", d.findings);
    }
}


/// The sandbox's evidence chain verifies against its register; `what` names the step.
pub fn assert_chain_verifies(sb: &Sandbox, what: &str) {
    let store = lz_evidence::LocalStore::new(sb.evidence_file());
    let trust = sb.paths.trust.clone();
    lz_evidence::verify_store(&store, &trust, &[]).unwrap_or_else(|e| panic!("{what}: the chain does not verify: {e:#}"));
}

/// A release tree with a policy finding in dev and one register entry waiving it, approval
/// pending: the secrets module stops recording its rotation schedule (LZ-SEC-002 fails for every
/// dev secret) and EXC-0001 (owner alice, approver bob) waives that rule in dev.
pub fn waived_violation(tree: &Path) -> anyhow::Result<()> {
    edit(
        &tree.join("modules/secrets/main.tf"),
        "    RotationDays       = tostring(each.value.rotation_days)\n",
        "",
    )?;
    std::fs::write(
        tree.join("governance/exceptions.toml"),
        r#"[[exception]]
id                   = "EXC-0001"
rule_id              = "LZ-SEC-002"
scope                = { environment = "dev", address = "module.secrets.aws_secretsmanager_secret.this[*]" }
justification        = "Rehearsal of a waiver"
compensating_control = "Manual rotation under a runbook"
owner                = "alice"
approver             = "bob"
ticket               = "SEC-1"
created              = 2026-11-26
expires              = 2027-02-20
"#,
    )?;
    Ok(())
}

pub fn edit(path: &Path, from: &str, to: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    anyhow::ensure!(text.contains(from), "{}: no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to))?;
    Ok(())
}
