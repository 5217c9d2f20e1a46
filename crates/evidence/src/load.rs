//! What the `evidence` commands verify before they answer, as the library's logic (the CLI only
//! parses arguments and prints): a store's chain verified with this machine's cache of verified
//! heads ([`verified`]), a store's streaming report ([`store_report`]), an exported bundle's
//! report ([`bundle_report`]) and the plan file a record is appended with ([`plan_file`]).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::bundle::Bundle;
use crate::details::PlanDetails;
use crate::dsse::sha256_hex;
use crate::verify::{report_of_store, verify_chain_with, Anchors, KnownCheckpoint, Strategy, VerifiedCache};
use crate::witness::Witnessed;
use crate::{Failure, Reason, Report, Role, Store, StoredRecord, TrustRoot, VerifiedChain};

/// A store's chain, verified: its anchors, its records without the foreign objects it skips, and
/// the verified chain (whose `quarantined` lists those objects: findings).
pub struct Loaded {
    pub anchors: Anchors,
    pub records: Vec<StoredRecord>,
    pub chain: VerifiedChain,
}

/// `store`'s records verified against `trust` with the store's head, `witnessed` and the head
/// `cache` remembers as anchors; the new head is cached. A tampered chain is `Ok(Err(failure))`
/// (nothing is cached); `Err` is a store or input that could not be read.
pub fn verified(store: &dyn Store, trust: &TrustRoot, cache: &VerifiedCache, witnessed: Vec<Witnessed>) -> Result<Result<Loaded, Failure>> {
    let mut anchors = Anchors::of_store(store, cache.load()?.into_iter().collect())?;
    anchors.witnessed = witnessed;
    let records = store.load()?;
    let chain = match verify_chain_with(&records, trust, &anchors) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.downcast::<Failure>()?)),
    };
    if let Some(head) = &chain.head {
        cache.save(head)?;
    }
    let records = records.into_iter().filter(|r| !chain.quarantined.iter().any(|q| q.seen && q.location == r.location)).collect();
    Ok(Ok(Loaded { anchors, records, chain }))
}

/// `store` verified in one streaming pass (memory stays flat however long the chain is) with its
/// head, `known` checkpoints and `witnessed` as anchors. A tampered chain is `Report::failure`.
pub fn store_report(store: &dyn Store, trust: &TrustRoot, known: Vec<KnownCheckpoint>, witnessed: Vec<Witnessed>) -> Result<Report> {
    let mut anchors = Anchors::of_store(store, known)?;
    anchors.witnessed = witnessed;
    report_of_store(store, trust, &anchors, Strategy::default())
}

/// A bundle's chain verified with its anchors (the header's checkpoint and witnessed
/// checkpoint), then its header's exporter signature against the register the chain ends with;
/// a chain whose register has a witness must come with a witnessed checkpoint. `path` names the
/// bundle in a failure.
pub fn bundle_report(b: &Bundle, path: &Path, root: &TrustRoot, anchors: &Anchors) -> Result<Report> {
    let failed = |f: Failure| Ok(Report { records: 0, head: None, failure: Some(f), quarantined: Vec::new() });
    let chain = match verify_chain_with(&b.records, root, anchors) {
        Ok(c) => c,
        Err(e) => return failed(e.downcast::<Failure>()?),
    };
    let header = format!("{}:1", path.display());
    if let Err(e) = b.check_exporter(&chain.register) {
        return failed(Failure { location: header, sequence: None, reason: Reason::HeadSignature(format!("bundle header: {e}")) });
    }
    if b.header.witnessed.is_none() && chain.register.iter().any(|i| i.has_role(Role::Witness)) {
        let what = "the bundle carries no witnessed checkpoint, but the chain's register has a witness: its length is vouched for by its exporter alone";
        return failed(Failure { location: header, sequence: None, reason: Reason::Witness(what.into()) });
    }
    Ok(Report { records: chain.records.len(), head: chain.head, failure: None, quarantined: chain.quarantined })
}

/// The plan file a record is appended with (`evidence append --plan FILE`): its sha256 (which
/// must equal `given`, the `--plan-digest`, when one is given) and the plan details the record
/// carries (the plan itself, redacted when the record is written, and its resource addresses).
pub fn plan_file(path: &Path, given: Option<&str>) -> Result<(String, PlanDetails)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let plan: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}:{}: plan is not JSON: {e}", path.display(), e.line()))?;
    let digest = sha256_hex(&bytes);
    if given.is_some_and(|d| d != digest) {
        bail!("--plan-digest does not match the sha256 of {}", path.display());
    }
    let resources = crate::redact::plan_resources(&plan).into_iter().map(|r| r.0).collect();
    Ok((digest, PlanDetails { resources, plan: Some(plan), ..Default::default() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_file_is_digested_and_checked_against_the_given_digest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.json");
        let text = r#"{"resource_changes": [{"address": "aws_s3_bucket.a", "change": {"actions": ["create"], "after": {}}}]}"#;
        std::fs::write(&p, text).unwrap();
        let (digest, details) = plan_file(&p, None).unwrap();
        assert_eq!(digest, sha256_hex(text.as_bytes()));
        assert_eq!(details.resources, ["aws_s3_bucket.a"]);
        assert!(plan_file(&p, Some(&digest)).is_ok());
        let e = format!("{:#}", plan_file(&p, Some("00")).unwrap_err());
        assert!(e.contains("--plan-digest does not match"), "{e}");
        std::fs::write(&p, "{\n  \"a\": \n").unwrap();
        let e = format!("{:#}", plan_file(&p, None).unwrap_err());
        assert!(e.contains("plan.json:3: plan is not JSON"), "{e}");
    }
}
