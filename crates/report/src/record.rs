//! One verified record as the page shows it ([`RecordView`]): the record as change control reads
//! it ([`lz_promote::chain::Record`], whose serialized form is the page's), with its anchor on
//! the page, its hash and its details as text.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use lz_evidence::query::RecordSummary;
use lz_evidence::VerifiedRecord;
use lz_promote::chain::Record;
use lz_promote::verified::record_of;
use serde::Serialize;
use serde_json::Value;

/// One verified record as the page shows it: the record's own fields (sequence, kind, time,
/// identity, signer, release, environment, account, plan digest, ticket, reason) come from
/// [`Record`], written once there, and read through the view (`view.sequence`: it derefs to
/// its record).
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    pub anchor: String,
    #[serde(flatten)]
    pub record: Record,
    pub hash: String,
    /// Kind-specific details, each rendered as text.
    pub details: Vec<(String, String)>,
    /// Drift findings and remediation items, one line each.
    pub items: Vec<String>,
}

impl std::ops::Deref for RecordView {
    type Target = Record;

    fn deref(&self) -> &Record {
        &self.record
    }
}

fn detail_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(a) if a.is_empty() => "none".into(),
        other => other.to_string(),
    }
}

/// The page's view of the summary `s` of a verified record (`by_seq`: the verified chain by
/// sequence).
pub(crate) fn view(s: &RecordSummary, by_seq: &BTreeMap<u64, &VerifiedRecord>) -> Result<RecordView> {
    let v = by_seq.get(&s.sequence).with_context(|| format!("record {} is not in the verified chain", s.sequence))?;
    Ok(RecordView {
        anchor: format!("rec-{}", s.sequence),
        record: record_of(v),
        hash: v.hash.clone(),
        details: s
            .details
            .iter()
            .filter(|(k, _)| !ITEM_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), if k == "classes" { lz_promote::classes::describe_claims(v) } else { detail_text(v) }))
            .collect(),
        items: items(&s.details),
    })
}

/// Details shown as item lines rather than as values.
const ITEM_KEYS: [&str; 5] = ["findings", "remediated", "manual", "escalated", "still_drifted"];

/// Drift findings and remediation items as lines ("restored: s3://b versioning ...").
fn items(details: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for (key, label) in [("findings", "drift"), ("remediated", "restored"), ("manual", "manual"), ("escalated", "ESCALATED"), ("still_drifted", "still drifted")] {
        for v in details.get(key).and_then(Value::as_array).into_iter().flatten() {
            let mut line = format!("{label}: {} {} (declared {}, actual {})", s(v, "resource"), s(v, "attribute"), s(v, "declared"), s(v, "actual"));
            if let Some(c) = v.get("class").and_then(Value::as_str) {
                line.push_str(&format!(" [{c}]"));
            }
            if key == "manual" || key == "escalated" {
                line.push_str(&format!("; owner {}", s(v, "owner")));
            }
            if let Some(p) = v.get("previous_remediation").and_then(Value::as_u64) {
                line.push_str(&format!("; remediated less than a day earlier by record {p}"));
            }
            out.push(line);
        }
    }
    out
}

pub(crate) fn views(list: &[RecordSummary], by_seq: &BTreeMap<u64, &VerifiedRecord>) -> Result<Vec<RecordView>> {
    list.iter().map(|s| view(s, by_seq)).collect()
}

#[cfg(test)]
mod tests {
    use lz_evidence::details::Details;
    use lz_evidence::identity::{generate_key, Role};
    use lz_evidence::keys::PublicKey;
    use lz_evidence::record::Kind;
    use lz_evidence::Identity;

    use super::*;

    fn shown() -> RecordView {
        let public_key = PublicKey::Ed25519(generate_key().verifying_key());
        let signer = Identity {
            name: "deployer-bot".into(),
            display_name: "Deployer <bot>".into(),
            kind: "workload".into(),
            group: "platform".into(),
            roles: vec![Role::Deployer, Role::Auditor],
            keyid: public_key.keyid(),
            public_key,
            kms_key: None,
            environments: Some(vec!["dev".into()]),
        };
        RecordView {
            anchor: "rec-7".into(),
            record: Record {
                sequence: 7,
                kind: Kind::PolicyEvaluation,
                identity: "deployer-bot".into(),
                signer,
                time: lz_evidence::record::parse_time("2026-12-05T10:00:00Z").unwrap(),
                release: "ab".repeat(32),
                environment: Some("dev".into()),
                account: None,
                plan_digest: Some("cd".repeat(32)),
                ticket: Some("CHG-1".into()),
                reason: None,
                details: Details::PolicyEvaluation(Default::default()),
            },
            hash: "ef".repeat(32),
            details: vec![("passed".into(), "true".into())],
            items: vec![],
        }
    }

    /// The page reads a record's fields under these keys (`report.html.j2`, `macros.html.j2`):
    /// the record's own from [`Record`], flattened, the signer's register entry without its key,
    /// the time as RFC 3339, and the details as text (never the typed details of the record).
    #[test]
    fn a_record_view_serializes_as_the_page_reads_it() {
        let v = shown();
        let keyid = v.record.signer.keyid.clone();
        let got = serde_json::to_value(&v).unwrap();
        let want = serde_json::json!({
            "anchor": "rec-7",
            "sequence": 7,
            "kind": "policy-evaluation",
            "identity": "deployer-bot",
            "signer": { "display_name": "Deployer <bot>", "kind": "workload", "group": "platform", "roles": ["deployer", "auditor"], "keyid": keyid },
            "time": "2026-12-05T10:00:00Z",
            "release": "ab".repeat(32),
            "environment": "dev",
            "account": null,
            "plan_digest": "cd".repeat(32),
            "ticket": "CHG-1",
            "reason": null,
            "hash": "ef".repeat(32),
            "details": [["passed", "true"]],
            "items": [],
        });
        assert_eq!(got, want);
    }

    /// The page's signer macro shows a record view as it did when the view kept its own copy of
    /// the signer's fields: the same text, escaped.
    #[test]
    fn the_signer_macro_shows_a_record_view_as_before() {
        let mut env = minijinja::Environment::new();
        let page = concat!(include_str!("macros.html.j2"), "{{ signer(r) }} {{ r.time }} {{ r.kind }} #{{ r.sequence }} {{ r.signer.keyid }}");
        env.add_template("t.html", page).unwrap();
        let v = shown();
        let out = env.get_template("t.html").unwrap().render(minijinja::context! { r => minijinja::Value::from(minijinja::value::Serde(&v)) }).unwrap();
        let want = format!(
            "<span title=\"Deployer &lt;bot&gt;\">deployer-bot</span> <span class=\"muted\">(workload, platform: deployer, auditor)</span> 2026-12-05T10:00:00Z policy-evaluation #7 {}",
            v.record.signer.keyid
        );
        assert!(out.ends_with(&want), "{out}");
    }
}
