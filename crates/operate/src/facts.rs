//! Facts carry their proof. A deployer key can sign any record; it cannot make the state bucket
//! hold a state version, nor Secrets Manager hold a secret version, nor a bucket's live controls
//! be what they are not. So every fact a gate rests on names what its source holds, and is
//! checked there before it is trusted:
//!
//! - a `succeeded` deployment names the state object's S3 version id, serial and lineage
//!   ([`state_details`]); the state bucket must hold that version, with that serial and lineage,
//!   and its `terraform_data.release` must name the deployment's release ([`check_deployment`]);
//! - a drift check names the state version it judged and the digest of the plan output it
//!   judged ([`plan_output_digest`]); a `drifted=false` record counts only when it judged the
//!   deployed state version and carries that digest ([`check_drift`]), and at the next
//!   environment's promotion ([`gate`]) only while the state is still that version and the live
//!   bucket controls still match;
//! - a rotation and its verification name Secrets Manager's version id and its creation date;
//!   the secret must exist under the recorded ARN and hold that version, created then
//!   ([`check_rotation`]).
//!
//! A fact its source contradicts is reported ([`verify`], `evidence verify`, `rotation status`,
//! `drift`) and refused by the promotion gate, never trusted.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use lz_evidence::record::Kind;
use serde_json::Value;

use crate::approval::short;
use crate::bootstrap::Names;
use crate::ledger::Record;
use crate::target::{StateAt, Target};
use crate::refusal::refuse;
use crate::session::{last_deployment, previous_environment};

/// Where an environment's facts are checked: its target (account, region, state bucket) and the
/// names of its buckets (`Names::default()` for the landing zone's own).
#[derive(Clone, Debug)]
pub struct Place {
    pub target: Target,
    pub names: Names,
}

impl Place {
    pub fn new(target: Target, names: Names) -> Place {
        Place { target, names }
    }

    /// The place of an environment as its release describes it ([`Names::of_target`]).
    pub fn of_target(target: Target) -> Place {
        let names = Names::of_target(&target);
        Place { target, names }
    }

    fn s3(&self) -> Result<aws_sdk_s3::Client> {
        let t = &self.target;
        Ok(lz_platform::reach::account(&t.endpoint, &t.account_id, &t.region, &t.deployer_role, &lz_platform::reach::session(&t.environment))?.s3())
    }

}

fn state_url(b: &crate::deploy::Backend) -> String {
    format!("s3://{}/{}", b.bucket, b.key)
}

/// The engine deployment record `d` says applied it (`None`: a record older than the field).
pub fn engine_of(d: &Record) -> Option<lz_evidence::details::Engine> {
    d.deployment().and_then(|x| x.engine)
}

/// Where the state of deployment `d` lives in `place`: the canary's key, or the landing zone's
/// for a run the terraform engine applied ([`Target::backend_of`]).
pub fn backend_of(place: &Place, d: &Record) -> crate::deploy::Backend {
    place.target.backend_of(engine_of(d))
}

/// The details a record names a state by (a `succeeded` deployment, a drift check): the one
/// writer of `state_version`, `state_serial` and `state_lineage`.
/// (`state_serial`, `state_version`, `state_lineage`).
pub fn state_details(state: Option<&StateAt>) -> (Option<u64>, Option<String>, Option<String>) {
    (state.map(|s| s.serial), state.and_then(|s| s.version.clone()), state.and_then(|s| s.lineage.clone()))
}

/// The state version a record names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub version: String,
    pub serial: u64,
    pub lineage: String,
}

/// A drift record that found no drift.
fn clean(x: &Record) -> bool {
    x.details.drift().is_some_and(|d| d.drifted == Some(false))
}

/// The state `r` names, or why it names none (an S3 version id "null" is an unversioned
/// object, which any later write replaces: no proof).
pub fn claimed(r: &Record) -> std::result::Result<Claimed, String> {
    let (version, serial, lineage) = r.details.state().unwrap_or_default();
    let version = version.filter(|v| !v.is_empty() && *v != "null");
    let lineage = lineage.filter(|l| !l.is_empty());
    match (version, serial, lineage) {
        (Some(v), Some(s), Some(l)) => Ok(Claimed { version: v.to_string(), serial: s, lineage: l.to_string() }),
        _ => Err(format!(
            "{} record {} names no state version with its serial and lineage (state_version {}, state_serial {}, state_lineage {}): nothing proves what it claims",
            r.kind,
            r.sequence,
            version.unwrap_or("missing"),
            serial.map(|s| s.to_string()).unwrap_or_else(|| "missing".into()),
            lineage.unwrap_or("missing")
        )),
    }
}

/// What the state bucket holds at one version.
#[derive(Clone, Debug)]
pub struct Held {
    pub serial: u64,
    pub lineage: String,
    pub release: Option<String>,
}

/// Answers of S3 that mean "the bucket does not hold this object version".
fn not_held(code: Option<&str>) -> bool {
    matches!(code, Some("NoSuchVersion" | "NoSuchKey" | "NoSuchBucket" | "InvalidArgument" | "404" | "400"))
}

/// The state object of `place` at `version` (GetObject by version id); `None` when the bucket
/// does not hold it.
pub fn held(place: &Place, version: &str) -> Result<Option<Held>> {
    held_in(place, &place.target.backend(), version)
}

/// [`held`] for the state object of `b` (a terraform-engine deployment's key).
pub fn held_in(place: &Place, b: &crate::deploy::Backend, version: &str) -> Result<Option<Held>> {
    use aws_sdk_s3::error::ProvideErrorMetadata as _;
    let s3 = place.s3()?;
    let rt = lz_platform::aws::runtime()?;
    let got = rt.block_on(async {
        match s3.get_object().bucket(&b.bucket).key(&b.key).version_id(version).send().await {
            Ok(o) => {
                let bytes = o.body.collect().await.with_context(|| format!("reading {} version {version}", state_url(b)))?.into_bytes();
                anyhow::Ok(Some(bytes))
            }
            Err(e) if not_held(e.code()) || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(crate::aws_error(e)).with_context(|| format!("cannot read {} version {version}", state_url(b))),
        }
    })?;
    let Some(bytes) = got else { return Ok(None) };
    let what = || format!("{} version {version}", state_url(b));
    let state: Value = serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}:{}:{}: not a Terraform state: {e}", what(), e.line(), e.column()))?;
    Ok(Some(Held {
        serial: state.get("serial").and_then(Value::as_u64).with_context(|| format!("{}: the state has no serial", what()))?,
        lineage: state.get("lineage").and_then(Value::as_str).unwrap_or_default().to_string(),
        release: crate::target::state_release(&state),
    }))
}

/// Why the state bucket of `place` contradicts the `succeeded` deployment `d` (or `None`: it
/// holds the version `d` names, with its serial and lineage, and that state is `d`'s release).
/// A terraform-engine deployment is read at the landing zone's state key; its state has no
/// `terraform_data.release` (the landing zone's root is the release's own files), so the
/// version, serial and lineage are its proof, and the release is the signed record's.
pub fn check_deployment(place: &Place, d: &Record) -> Result<Option<String>> {
    let b = backend_of(place, d);
    let env = d.environment.as_deref().unwrap_or_default();
    let head = format!("deployment record {} of release {} to {env}", d.sequence, short(&d.release));
    let c = match claimed(d) {
        Ok(c) => c,
        Err(why) => return Ok(Some(format!("{head}: {why}"))),
    };
    let Some(h) = held_in(place, &b, &c.version)? else {
        return Ok(Some(format!("{head} names state version {} of {}, which the state bucket does not hold", c.version, state_url(&b))));
    };
    let mut wrong = Vec::new();
    if h.serial != c.serial {
        wrong.push(format!("serial {} (the record says {})", h.serial, c.serial));
    }
    if h.lineage != c.lineage {
        wrong.push(format!("lineage {} (the record says {})", h.lineage, c.lineage));
    }
    let terraform = engine_of(d) == Some(lz_evidence::details::Engine::Terraform);
    if !terraform && h.release.as_deref() != Some(d.release.as_str()) {
        wrong.push(format!("release {} (terraform_data.release), not {}", h.release.as_deref().map(short).unwrap_or("none"), short(&d.release)));
    }
    Ok((!wrong.is_empty()).then(|| format!("{head}: state version {} of {} holds {}", c.version, state_url(&b), wrong.join(", "))))
}

/// The digest of the plan output a drift check judged: the sha256 of the compact JSON of the
/// shown plan's `resource_changes`, `resource_drift` and `output_changes` (what the plan says
/// would change; its timestamp and prior state are left out).
pub fn plan_output_digest(shown: &lz_platform::tfrun::ShownPlan) -> String {
    let part = |k: &str| shown.json.get(k).cloned().unwrap_or(Value::Null);
    let judged = serde_json::json!({
        "resource_changes": part("resource_changes"),
        "resource_drift": part("resource_drift"),
        "output_changes": part("output_changes"),
    });
    crate::plan_digest(&judged)
}

/// Why the clean drift record `x` proves nothing about deployment `d` (or `None`). A drift
/// record that found drift is never a proof of anything and is not judged here.
pub fn check_drift(d: &Record, x: &Record) -> Option<String> {
    let Some(drift) = x.details.drift().filter(|x| x.drifted == Some(false)) else {
        return None;
    };
    let env = x.environment.as_deref().unwrap_or_default();
    let head = format!("drift record {} (drifted=false in {env})", x.sequence);
    if drift.deployment_record != Some(d.sequence) {
        return Some(format!("{head} does not name deployment record {}, the deployment of {env} it follows", d.sequence));
    }
    let digest = drift.plan_output_digest.as_deref().unwrap_or_default();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("{head} carries no digest of the plan output it judged"));
    }
    let judged = match claimed(x) {
        Ok(c) => c,
        Err(why) => return Some(format!("{head}: {why}")),
    };
    match claimed(d) {
        Ok(deployed) if deployed == judged => None,
        Ok(deployed) => Some(format!(
            "{head} judged state version {} (serial {}, lineage {}), not version {} (serial {}, lineage {}) that deployment record {} left",
            judged.version, judged.serial, judged.lineage, deployed.version, deployed.serial, deployed.lineage, d.sequence
        )),
        Err(_) => Some(format!("{head} judged the state of deployment record {}, which names no state version", d.sequence)),
    }
}

/// The last drift check of `environment` after deployment `d`.
fn drift_after<'a>(records: &'a [Record], environment: &str, d: &Record) -> Option<&'a Record> {
    records
        .iter()
        .filter(|x| x.kind == Kind::Drift && x.environment.as_deref() == Some(environment) && x.sequence > d.sequence)
        .max_by_key(|x| x.sequence)
}

/// The state object of deployment `d` that `place` holds now (its head version).
fn head(place: &Place, d: &Record) -> Result<Option<StateAt>> {
    crate::target::read_state(&place.s3()?, &backend_of(place, d))
}

/// The promotion gate's facts, checked against their sources before anything of the run is
/// recorded (`records`: the session's admitted chain). The target's own last deployment (the
/// baseline the tier was classified against) must be what its state bucket holds. The previous
/// environment's deployment must be what its state bucket holds and still the state there; its
/// clean drift check must have judged that state, carry its plan output digest, and the live
/// controls of its buckets (and the landing zone's stores' Object Lock) must still be the
/// declared ones. Any of these contradicted is a refusal naming the record. The plan output
/// digest is not recomputed: the plan a drift check judges is the release's stack against the
/// state version it names, which must be the deployed one and still the state.
pub fn gate(paths: &crate::Paths, records: &[Record], release: &str, target: &Place, previous: Option<&Place>) -> Result<()> {
    let env = target.target.environment.as_str();
    let r = short(release);
    if let Some(d) = last_deployment(records, env) {
        if let Some(why) = check_deployment(target, d)? {
            return Err(refuse!("release {r} cannot go to {env}: the baseline is not trusted: {why}"));
        }
    }
    let Some(prev) = previous_environment(env)? else { return Ok(()) };
    let Some(place) = previous else {
        anyhow::bail!("the promotion into {env} was given no place to check {prev}'s facts (its state bucket and buckets)");
    };
    anyhow::ensure!(place.target.environment == prev, "the previous environment's place is {}, not {prev}", place.target.environment);
    // Without a deployment or a drift check of the previous environment, the admission refused.
    let Some(d) = last_deployment(records, prev) else { return Ok(()) };
    if let Some(why) = check_deployment(place, d)? {
        return Err(refuse!("release {r} cannot go to {env}: {prev}'s deployment is contradicted by its state: {why}"));
    }
    let deployed = claimed(d).map_err(|why| refuse!("release {r} cannot go to {env}: {why}"))?;
    match head(place, d)? {
        Some(now) if now.version.as_deref() == Some(deployed.version.as_str()) => {}
        now => {
            return Err(refuse!(
                "release {r} cannot go to {env}: the state of {prev} ({}) is no longer version {} that deployment record {} left, but {}: it changed outside change control; run `cargo xtask drift --env {prev} --as IDENTITY --key FILE`",
                state_url(&backend_of(place, d)),
                deployed.version,
                d.sequence,
                now.map(|s| format!("version {} (serial {})", s.version.unwrap_or_else(|| "null".into()), s.serial)).unwrap_or_else(|| "no state at all".into())
            ))
        }
    }
    let Some(x) = drift_after(records, prev, d) else { return Ok(()) };
    if let Some(why) = check_drift(d, x) {
        return Err(refuse!("release {r} cannot go to {env}: {prev}'s drift check is not trusted: {why}"));
    }
    if clean(x) {
        let archive = paths.open_release(&d.release)?;
        let plan = archive.plan(prev)?;
        let t = &place.target;
        let spec = crate::bootstrap::spec_from_plan(&plan, prev, &t.account_id, &t.region, &place.names)?;
        let mut findings = crate::controls::check_buckets(&t.endpoint, &spec, &t.deployer_role)?;
        if let crate::ledger::EvidenceAt::S3(stores) = &paths.evidence {
            findings.extend(crate::controls::check_stores(stores)?);
        }
        if !findings.is_empty() {
            let what: Vec<String> = findings.iter().map(|f| format!("{} {}: declared {}, actual {}", f.resource, f.attribute, f.declared, f.actual)).collect();
            return Err(refuse!(
                "release {r} cannot go to {env}: {prev}'s drift record {} says drifted=false, but its live controls contradict it: {}; run `cargo xtask drift --env {prev} --as IDENTITY --key FILE`",
                x.sequence,
                what.join("; ")
            ));
        }
    }
    Ok(())
}

/// A record whose fact its source contradicts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Contradiction {
    pub sequence: u64,
    pub kind: String,
    pub why: String,
}

/// Where the environments of a chain are checked: `(release, environment) -> Place`, from the
/// deployed release's tree for the landing zone, from a sandbox's names in tests.
pub type Locate<'a> = &'a dyn Fn(&str, &str) -> Result<Place>;

/// Every fact of `records` (an admitted chain: replayed deployments only) checked against its
/// source: each `succeeded` deployment against its state bucket (and its serial above the one
/// before it in the same lineage), each clean drift check against the deployment it follows,
/// each rotation and rotation verification against Secrets Manager. `Err` only when a source
/// cannot be asked.
pub fn verify(records: &[Record], locate: Locate) -> Result<Vec<Contradiction>> {
    let mut out = Vec::new();
    let mut push = |r: &Record, why: String| out.push(Contradiction { sequence: r.sequence, kind: r.kind.to_string(), why });
    let mut places: BTreeMap<(String, String), Place> = BTreeMap::new();
    let mut place = |release: &str, env: &str| -> Result<Place> {
        let key = (release.to_string(), env.to_string());
        if let Some(p) = places.get(&key) {
            return Ok(p.clone());
        }
        let p = locate(release, env)?;
        places.insert(key, p.clone());
        Ok(p)
    };
    // (environment) -> (the last trusted deployment, its state)
    let mut last: BTreeMap<String, (&Record, Option<Claimed>)> = BTreeMap::new();
    for r in records {
        let Some(env) = r.environment.as_deref() else { continue };
        match r.kind {
            Kind::Deployment if r.deployment_outcome() == Some("succeeded") => {
                let p = place(&r.release, env)?;
                if let Some(why) = check_deployment(&p, r)? {
                    push(r, why);
                    continue;
                }
                let c = claimed(r).ok();
                if let (Some((before, Some(b))), Some(now)) = (last.get(env), &c) {
                    if b.lineage == now.lineage && now.serial <= b.serial {
                        push(r, format!(
                            "deployment record {} of release {} to {env} names state serial {}, not above serial {} of the deployment before it (record {}): an old state version named again",
                            r.sequence, short(&r.release), now.serial, b.serial, before.sequence
                        ));
                        continue;
                    }
                }
                last.insert(env.to_string(), (r, c));
            }
            Kind::Drift => {
                let Some((d, _)) = last.get(env) else {
                    if clean(r) {
                        push(r, format!("drift record {} (drifted=false in {env}) follows no trusted deployment of {env}", r.sequence));
                    }
                    continue;
                };
                if let Some(why) = check_drift(d, r) {
                    push(r, why);
                }
            }
            _ => {}
        }
    }
    let rotations: Vec<&Record> = records.iter().filter(|r| r.environment.is_some()).collect();
    for (seq, why) in check_rotations(&rotations, |r| Ok(place(&r.release, r.environment.as_deref().unwrap_or_default())?.target))? {
        let r = records.iter().find(|r| r.sequence == seq).expect("a checked record is one of the records");
        push(r, why);
    }
    out.sort_by_key(|c| c.sequence);
    Ok(out)
}

/// The rotations that count among `records` (`rotation-verification` records that passed,
/// `rotation` records that rotated), checked against Secrets Manager (of the target
/// `target_of` gives for a record): per kind, environment and secret, newest first, down to
/// the first one Secrets Manager agrees with. Returns the contradicted ones (sequence -> why).
/// Records older than an agreed one are superseded and not asked about: Secrets Manager drops
/// versions that lost their labels, so an old rotation's version may be gone for good reason.
pub fn check_rotations(records: &[&Record], mut target_of: impl FnMut(&Record) -> Result<Target>) -> Result<BTreeMap<u64, String>> {
    let mut groups: BTreeMap<(String, String, String), Vec<&Record>> = BTreeMap::new();
    for r in records {
        let counts = match (r.kind, r.details.rotation()) {
            (Kind::RotationVerification, Some(d)) => d.outcome == "passed",
            (Kind::Rotation, Some(d)) => d.outcome == "rotated",
            _ => false,
        };
        if let (true, Some(d)) = (counts, r.details.rotation()) {
            let key = (r.kind.to_string(), r.environment.clone().unwrap_or_default(), d.resource.clone());
            groups.entry(key).or_default().push(r);
        }
    }
    let mut out = BTreeMap::new();
    for group in groups.values_mut() {
        group.sort_by_key(|r| std::cmp::Reverse((r.time, r.sequence)));
        for r in group.iter() {
            match check_rotation(&target_of(r)?, r)? {
                Some(why) => {
                    out.insert(r.sequence, why);
                }
                None => break,
            }
        }
    }
    Ok(out)
}

/// The creation date Secrets Manager reports, as the records name it (RFC 3339, seconds).
pub fn created(d: &aws_sdk_secretsmanager::primitives::DateTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(d.secs()).map(crate::window::rfc3339).unwrap_or_else(|_| d.secs().to_string())
}

/// The versions of secret `name` Secrets Manager holds (deprecated ones included), with their
/// creation dates; `None` when there is no such secret. Also its ARN.
pub async fn versions(sm: &aws_sdk_secretsmanager::Client, name: &str) -> Result<Option<(String, BTreeMap<String, String>)>> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
    let arn = match sm.describe_secret().secret_id(name).send().await {
        Ok(d) => d.arn().unwrap_or_default().to_string(),
        Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(crate::aws_error(e)).with_context(|| format!("describing secret {name}")),
    };
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = sm
            .list_secret_version_ids()
            .secret_id(name)
            .include_deprecated(true)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(crate::aws_error)
            .with_context(|| format!("listing the versions of secret {name}"))?;
        for v in page.versions() {
            if let Some(id) = v.version_id() {
                out.insert(id.to_string(), v.created_date().map(created).unwrap_or_default());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(Some((arn, out)))
}

/// Why Secrets Manager of `target`'s account contradicts the rotation (or verification)
/// record `r` (or `None`): the secret must exist under the recorded ARN and hold the recorded
/// version, created at the recorded date.
pub fn check_rotation(target: &Target, r: &Record) -> Result<Option<String>> {
    let sm = lz_platform::reach::account(&target.endpoint, &target.account_id, &target.region, &target.deployer_role, &lz_platform::reach::session(&target.environment))?.secretsmanager();
    let rt = lz_platform::aws::runtime()?;
    rt.block_on(check_rotation_with(&sm, r))
}

/// [`check_rotation`] with a client of the environment's Secrets Manager.
pub async fn check_rotation_with(sm: &aws_sdk_secretsmanager::Client, r: &Record) -> Result<Option<String>> {
    let env = r.environment.as_deref().unwrap_or_default();
    let Some(d) = r.details.rotation() else {
        return Ok(Some(format!("{} record {} is no rotation record", r.kind, r.sequence)));
    };
    let name = d.resource.as_str();
    let head = format!("{} record {} ({name} in {env})", r.kind, r.sequence);
    let (Some(version), Some(when)) = (Some(d.version.as_str()), d.version_created.as_deref()) else {
        return Ok(Some(format!("{head} names no Secrets Manager version id with its creation date: nothing proves the rotation")));
    };
    let Some((arn, held)) = versions(sm, name).await? else {
        return Ok(Some(format!("{head}: Secrets Manager has no secret {name}")));
    };
    if let Some(named) = d.arn.as_deref().filter(|a| *a != arn) {
        return Ok(Some(format!("{head} names ARN {named}, but the secret is {arn}")));
    }
    Ok(match held.get(version) {
        None => Some(format!("{head} names version {version}, which Secrets Manager does not hold for {name}")),
        Some(c) if c != when => Some(format!("{head} names version {version} created {when}, but Secrets Manager created it {c}")),
        Some(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(sequence: u64, kind: Kind, details: Value) -> Record {
        let key = lz_evidence::identity::generate_key();
        Record {
            sequence,
            kind,
            identity: "deployer-bot".into(),
            signer: lz_evidence::Identity {
                name: "deployer-bot".into(),
                display_name: "Deployer Bot".into(),
                kind: "workload".into(),
                group: "platform".into(),
                roles: vec![],
                public_key: key.verifying_key().into(),
                keyid: String::new(),
                kms_key: None,
                environments: None,
            },
            time: time::OffsetDateTime::UNIX_EPOCH,
            release: "a".repeat(64),
            environment: Some("dev".into()),
            account: None,
            plan_digest: None,
            ticket: None,
            reason: None,
            details: {
                let mut map = details.as_object().cloned().unwrap_or_default();
                if kind == Kind::Deployment {
                    map.entry("outcome").or_insert("succeeded".into());
                }
                lz_evidence::details::Details::parse(kind, &map).expect("test details parse")
            },
        }
    }

    #[test]
    fn a_clean_drift_record_counts_only_bound_to_the_deployed_state_and_a_plan_output_digest() {
        let state = json!({"state_version": "v1", "state_serial": 3, "state_lineage": "L"});
        let d = record(5, Kind::Deployment, json!({"outcome": "succeeded", "state_version": "v1", "state_serial": 3, "state_lineage": "L"}));
        let drift = |extra: Value| {
            let mut v = json!({"drifted": false, "deployment_record": 5, "plan_output_digest": "ab".repeat(32)});
            v.as_object_mut().unwrap().extend(state.as_object().unwrap().clone());
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            record(6, Kind::Drift, v)
        };
        assert_eq!(check_drift(&d, &drift(json!({}))), None);
        // (change, words of the reason)
        let cases = [
            (json!({"plan_output_digest": null}), "carries no digest of the plan output"),
            (json!({"plan_output_digest": "not-a-digest"}), "carries no digest of the plan output"),
            (json!({"deployment_record": 4}), "does not name deployment record 5"),
            (json!({"state_version": "v0", "state_serial": 2}), "judged state version v0 (serial 2, lineage L), not version v1 (serial 3, lineage L)"),
            (json!({"state_lineage": "other"}), "(serial 3, lineage other), not"),
            (json!({"state_version": null}), "names no state version"),
        ];
        for (change, words) in cases {
            let why = check_drift(&d, &drift(change.clone())).unwrap_or_else(|| panic!("{change}: accepted"));
            assert!(why.contains(words), "{change}: {why}");
        }
        // A record that found drift proves nothing and blocks anyway: not judged.
        assert_eq!(check_drift(&d, &drift(json!({"drifted": true, "plan_output_digest": null}))), None);
    }

    #[test]
    fn an_unversioned_or_partial_state_is_no_proof() {
        for details in [
            json!({"state_version": "null", "state_serial": 1, "state_lineage": "L"}),
            json!({"state_version": "v1", "state_lineage": "L"}),
            json!({"state_version": "v1", "state_serial": 1}),
            json!({}),
        ] {
            let why = claimed(&record(1, Kind::Deployment, details.clone())).unwrap_err();
            assert!(why.contains("names no state version"), "{details}: {why}");
        }
        let ok = claimed(&record(1, Kind::Deployment, json!({"state_version": "v1", "state_serial": 1, "state_lineage": "L"}))).unwrap();
        assert_eq!(ok, Claimed { version: "v1".into(), serial: 1, lineage: "L".into() });
    }
}
