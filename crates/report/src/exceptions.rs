//! Export of the exceptions register: every entry with its status (valid, expiring within N
//! days, expired, invalid and why), owner, approver, ticket and compensating control, as CSV,
//! JSON or a self-contained HTML page the release report links to.
//!
//! The register's validity is judged as the offline gate judges it
//! ([`lz_policy::exceptions::Exception::problems`] and, with the identities register beside it,
//! `identity_problems`). "Today" is supplied by the caller: the export reports, it decides
//! nothing (a promotion still needs the signed exception-approval record).

use std::path::Path;

use anyhow::Result;
use lz_policy::exceptions::{fmt_date, Register};
use serde::Serialize;
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Valid,
    Expiring,
    Expired,
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::Invalid => "invalid",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub status: Status,
    /// Why the entry is invalid or expired (empty otherwise).
    pub why: Vec<String>,
    pub rule_id: String,
    pub environment: String,
    pub address: String,
    pub owner: String,
    pub approver: String,
    pub ticket: String,
    pub compensating_control: String,
    pub justification: String,
    pub created: String,
    pub expires: String,
    pub days_left: i64,
    /// `file:line` of the entry.
    pub origin: String,
    /// The signed exception-approval record of this entry, when the chain holds one.
    pub approval_record: Option<u64>,
    /// Who signed it and when.
    pub approval_signer: String,
    /// The approval's signature: "verified ..." (from a verified chain), "none", or "not checked".
    pub signature: String,
    /// `verified`, `none` or `not-checked`.
    pub signature_status: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Export {
    pub register: String,
    pub today: String,
    pub expiring_within_days: i64,
    pub counts: Counts,
    pub exceptions: Vec<Row>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub valid: usize,
    pub expiring: usize,
    pub expired: usize,
    pub invalid: usize,
}

impl Export {
    /// Entries that stop the line (expired or invalid).
    pub fn failing(&self) -> usize {
        self.counts.expired + self.counts.invalid
    }
}

/// The register at `register` judged on `today`; with `identities` the approvers are checked
/// against that register too.
pub fn export(register: &Path, identities: Option<&Path>, today: Date, expiring_within: i64) -> Result<Export> {
    let reg = match identities {
        Some(ids) => Register::load_with_identities(register, ids)?,
        None => Register::load(register)?,
    };
    Ok(judge(&reg, today, expiring_within))
}

/// Judges every entry of `reg` on `today`.
pub fn judge(reg: &Register, today: Date, expiring_within: i64) -> Export {
    let mut counts = Counts::default();
    let exceptions = reg
        .exceptions
        .iter()
        .map(|e| {
            let mut why = e.problems(today);
            if let Some(ids) = &reg.identities {
                why.extend(e.identity_problems(ids));
            }
            let expired = e.expires < today;
            let status = if expired {
                Status::Expired
            } else if !why.is_empty() {
                Status::Invalid
            } else if e.days_left(today) <= expiring_within {
                Status::Expiring
            } else {
                Status::Valid
            };
            match status {
                Status::Valid => counts.valid += 1,
                Status::Expiring => counts.expiring += 1,
                Status::Expired => counts.expired += 1,
                Status::Invalid => counts.invalid += 1,
            }
            Row {
                id: e.id.clone(),
                status,
                why,
                rule_id: e.rule_id.clone(),
                environment: e.scope.environment.clone(),
                address: e.scope.address.clone(),
                owner: e.owner.clone(),
                approver: e.approver.clone().unwrap_or_default(),
                ticket: e.ticket.clone(),
                compensating_control: e.compensating_control.clone(),
                justification: e.justification.clone(),
                created: fmt_date(e.created),
                expires: fmt_date(e.expires),
                days_left: e.days_left(today),
                origin: format!("{}:{}", reg.file, e.line),
                approval_record: None,
                approval_signer: String::new(),
                signature: NOT_CHECKED.into(),
                signature_status: "not-checked".into(),
            }
        })
        .collect();
    Export {
        register: reg.file.clone(),
        today: fmt_date(today),
        expiring_within_days: expiring_within,
        counts,
        exceptions,
    }
}

/// The signature status of an export made without an evidence store.
pub const NOT_CHECKED: &str = "not checked: no evidence store";

/// Fills each row's approval from the VERIFIED chain: the latest exception-approval record of
/// the entry as it is now (same id, same entry digest); its signature verified with the chain.
/// An approval of another version of the entry is named as such, never as this entry's.
pub fn with_approvals(x: &mut Export, reg: &Register, chain: &lz_evidence::VerifiedChain) {
    for row in &mut x.exceptions {
        let Some(e) = reg.exceptions.iter().find(|e| e.id == row.id) else { continue };
        let entry = lz_promote::session::exception_digest(e);
        let of_id: Vec<&lz_evidence::VerifiedRecord> = chain
            .records
            .iter()
            .filter(|r| r.kind == lz_evidence::Kind::ExceptionApproval)
            .filter(|r| r.details.exception_approval().is_some_and(|d| d.exception == row.id))
            .collect();
        let this = of_id.iter().rev().find(|r| r.details.exception_approval().and_then(|d| d.entry.as_deref()) == Some(entry.as_str()));
        // A signed record is not yet an approval: the gate's own rules (the entry's approver, a
        // person of the security group with the approver role, not the owner, dates) decide.
        let holds = this.map(|r| lz_promote::session::approval_holds(e, &r.signer, r.sequence, r.time, r.time));
        match (this, of_id.last()) {
            (Some(r), _) if matches!(holds, Some(Err(_))) => {
                let why = holds.and_then(|h| h.err()).unwrap_or_default();
                row.approval_record = Some(r.sequence);
                row.approval_signer = format!("{} at {}", r.statement.predicate.identity, r.statement.predicate.time);
                row.signature_status = "invalid".into();
                row.signature = format!("invalid: record {} is signed, but does not approve the entry: {why}", r.sequence);
            }
            (Some(r), _) => {
                row.approval_record = Some(r.sequence);
                row.approval_signer = format!("{} at {}", r.statement.predicate.identity, r.statement.predicate.time);
                row.signature_status = "verified".into();
                row.signature = format!("verified: ed25519 by {} (key {}), record {} of the verified chain", r.statement.predicate.identity, lz_evidence::record::short(&r.signer.keyid), r.sequence);
            }
            (None, Some(r)) => {
                row.signature_status = "none".into();
                row.signature = format!("none for this entry: record {} approves another version of it (entry digest differs)", r.sequence);
            }
            (None, None) => {
                row.signature_status = "none".into();
                row.signature = "none: no signed exception-approval record".into();
            }
        }
    }
}

/// The exceptions register AS ARCHIVED in release `digest` (never a working tree's), judged on
/// `today`, with each entry's approval and its signature status from the verified chain.
pub fn for_release(paths: &lz_promote::Paths, digest: &str, today: Date, expiring_within: i64) -> Result<Export> {
    let archive = paths.open_release(digest)?;
    let file = "governance/exceptions.toml";
    let reg = Register::parse(&archive.text(file)?, &archive.origin(file))?;
    let mut x = judge(&reg, today, expiring_within);
    x.register = format!("{} (release {})", archive.origin(file), lz_evidence::record::short(&archive.digest));
    let chain = paths.ledger()?.chain()?;
    with_approvals(&mut x, &reg, &chain);
    Ok(x)
}

fn csv_field(s: &str) -> String {
    // Cells a spreadsheet would read as a formula are prefixed, then quoted per RFC 4180.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) || s != s.trim() {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// RFC 4180 CSV with a header row.
pub fn to_csv(x: &Export) -> String {
    let mut out = String::from(
        "id,status,why,rule_id,environment,address,owner,approver,ticket,justification,compensating_control,approval_record,approval_signer,signature,created,expires,days_left,origin\r\n",
    );
    for r in &x.exceptions {
        let cells = [
            r.id.clone(),
            r.status.as_str().to_string(),
            r.why.join("; "),
            r.rule_id.clone(),
            r.environment.clone(),
            r.address.clone(),
            r.owner.clone(),
            r.approver.clone(),
            r.ticket.clone(),
            r.justification.clone(),
            r.compensating_control.clone(),
            r.approval_record.map(|s| s.to_string()).unwrap_or_default(),
            r.approval_signer.clone(),
            r.signature.clone(),
            r.created.clone(),
            r.expires.clone(),
            r.days_left.to_string(),
            r.origin.clone(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn to_json(x: &Export) -> Result<String> {
    Ok(serde_json::to_string_pretty(x)? + "\n")
}

pub fn to_html(x: &Export) -> Result<String> {
    super::html::render_exceptions(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = r#"
[[exception]]
id = "T-VALID"
rule_id = "LZ-S3-003"
scope = { environment = "dev", address = "module.a.*" }
justification = "j"
compensating_control = "daily review, RB-1"
owner = "olga"
approver = "victor"
ticket = "CHG-10"
created = 2026-11-01
expires = 2027-01-20

[[exception]]
id = "T-SOON"
rule_id = "LZ-S3-003"
scope = { environment = "dev", address = "module.b.*" }
justification = "j"
compensating_control = "c"
owner = "olga"
approver = "victor"
ticket = "CHG-11"
created = 2026-11-01
expires = 2026-12-05

[[exception]]
id = "T-EXPIRED"
rule_id = "LZ-S3-003"
scope = { environment = "dev", address = "module.c.*" }
justification = "j"
compensating_control = "c"
owner = "olga"
approver = "victor"
ticket = "CHG-12"
created = 2026-09-01
expires = 2026-11-20

[[exception]]
id = "T-SELF"
rule_id = "LZ-S3-003"
scope = { environment = "dev", address = "module.d.*" }
justification = "j"
compensating_control = "=cmd|' /C calc'!A0"
owner = "olga"
approver = "Olga"
ticket = "CHG-13"
created = 2026-11-01
expires = 2026-12-30
"#;

    fn export() -> Export {
        let reg = Register::parse(REGISTER, "fixture.toml").unwrap();
        judge(&reg, time::macros::date!(2026 - 11 - 27), 30)
    }

    #[test]
    fn each_entry_gets_its_status_and_why() {
        let x = export();
        let got: Vec<(&str, &str)> = x.exceptions.iter().map(|r| (r.id.as_str(), r.status.as_str())).collect();
        assert_eq!(
            got,
            [("T-VALID", "valid"), ("T-SOON", "expiring"), ("T-EXPIRED", "expired"), ("T-SELF", "invalid")]
        );
        assert_eq!(x.failing(), 2);
        assert_eq!(x.exceptions[1].days_left, 8);
        assert!(x.exceptions[2].why.iter().any(|w| w.contains("expired on 2026-11-20")));
        assert!(x.exceptions[3].why.iter().any(|w| w.contains("approved by its own owner")));
        assert_eq!(x.exceptions[3].origin, format!("fixture.toml:{}", REGISTER.lines().position(|l| l.contains("T-SELF")).unwrap() + 1));
    }

    #[test]
    fn csv_json_and_html_carry_the_same_rows() {
        let x = export();
        let csv = to_csv(&x);
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("id,status,why,rule_id"));
        assert!(lines[1].starts_with("T-VALID,valid,,LZ-S3-003,dev,module.a.*,olga,victor,CHG-10,j,\"daily review, RB-1\",,,not checked: no evidence store,"), "{}", lines[1]);
        assert!(lines[0].contains(",justification,compensating_control,approval_record,approval_signer,signature,"));
        assert!(lines[4].contains(",'=cmd|' /C calc'!A0,"), "a formula is defused: {}", lines[4]);
        let json: serde_json::Value = serde_json::from_str(&to_json(&x).unwrap()).unwrap();
        assert_eq!(json["counts"]["expired"], 1);
        assert_eq!(json["exceptions"][3]["status"], "invalid");
        assert_eq!(json["exceptions"][0]["justification"], "j");
        assert_eq!(json["exceptions"][0]["signature"], NOT_CHECKED);
        let html = to_html(&x).unwrap();
        for (id, status) in [("T-VALID", "valid"), ("T-SOON", "expiring"), ("T-EXPIRED", "expired"), ("T-SELF", "invalid")] {
            assert!(html.contains(&format!("<tr id=\"{id}\" data-status=\"{status}\">")), "{id}");
        }
        assert!(!html.contains("<script"));
        assert!(html.contains("<th>justification</th>") && html.contains("<th>approval and signature</th>"));
        assert!(html.contains("not checked: no evidence store"));
    }

    #[test]
    fn csv_quotes_separators_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
