//! The identities register as the evidence chain holds it: the genesis register (record 0,
//! whose fingerprint `governance/stores.toml` pins), then proposals that come into force only
//! with a quorum of approvals by other people of the security group. A working tree's
//! `governance/identities.toml` is a proposal: it never decides who is registered.

use std::path::Path;

use anyhow::{bail, Context, Result};
use lz_evidence::record::{Kind, RegisterApprovalEvidence, RegisterChangeEvidence, GENESIS};
use lz_evidence::{Identities, PendingRegister, RecordRef, Signer, VerifiedChain};
use time::OffsetDateTime;

use crate::refusal::{refuse, refuse_if};
use crate::Paths;

/// The working tree's register file: a proposal, compared with the chain's register.
pub const REGISTER_FILE: &str = lz_repo::paths::IDENTITIES;

/// Whether [`start`] wrote the genesis register or found it.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    Written(u64),
    Found,
}

/// Starts an empty chain with its genesis register `text`, signed by `signer` (a person of the
/// register's own security group), after checking that `text` is the register `pin` names: a
/// store is written once, so a wrong genesis is refused before anything is written. A chain
/// that already has records must start with the pinned genesis (verification checks it).
pub fn start(paths: &Paths, pin: &str, text: &str, signer: Option<&Signer>, time: OffsetDateTime) -> Result<Started> {
    let ledger = paths.ledger()?;
    if !ledger.chain()?.records.is_empty() {
        return Ok(Started::Found);
    }
    let fp = check_genesis(pin, text)?;
    let Some(signer) = signer else {
        bail!("the evidence store {} is empty: its genesis register is signed by a person of the security group (pass --as ID --key FILE)", paths.evidence.describe());
    };
    let fields = RegisterChangeEvidence::new(&fp, text, GENESIS).0.at(time).reason("genesis register of the landing zone");
    let r = ledger.append(Kind::RegisterChange, fields, signer)?;
    Ok(Started::Written(r.sequence))
}

/// Checks that `text` may start a store whose pin is `pin` (its sha256), without reading the
/// store: it is the pinned register, and it passes every rule of a new register. Returns its
/// fingerprint. `bootstrap --stores` runs it before creating any bucket.
pub fn check_genesis(pin: &str, text: &str) -> Result<String> {
    let fp = lz_evidence::dsse::sha256_hex(text.as_bytes());
    if fp != pin {
        bail!(
            "{REGISTER_FILE} (sha256 {fp}) is not the genesis register governance/stores.toml pins ({pin}): the evidence store starts with exactly the pinned register"
        );
    }
    let ids = Identities::parse(text, REGISTER_FILE)?;
    // A new store starts under every rule of a proposed register: each workload that deploys or
    // approves is bound, so the policy-identity rule judges the chain from its first record
    // (`lz_evidence::binding::policy_identity_rule_in_force`).
    lz_evidence::binding::check_new_register(&ids, REGISTER_FILE, lz_evidence::binding::NewRegister::Proposal).context("the genesis register breaks a rule of new registers")?;
    Ok(fp)
}

/// Proposes `text` as the next register, signed by `signer` (a security approver). It comes
/// into force only when the register in force's quorum of other security approvers approve it.
pub fn propose(paths: &Paths, text: &str, signer: &Signer, reason: &str, time: OffsetDateTime) -> Result<(RecordRef, PendingRegister)> {
    let ledger = paths.ledger()?;
    let chain = ledger.chain()?;
    let new = Identities::parse(text, REGISTER_FILE)?;
    lz_evidence::binding::check_new_register(&new, REGISTER_FILE, lz_evidence::binding::NewRegister::Proposal).map_err(|e| refuse!("the proposed register breaks a rule of new registers: {e:#}"))?;
    let changes = chain.register.changes_to(&new);
    refuse_if!(changes.is_empty(), "the proposed register changes nothing: it is the register in force ({})", chain.register.fingerprint());
    let fp = new.fingerprint();
    if let Some(p) = chain.pending.iter().find(|p| p.register.fingerprint() == fp) {
        return Err(refuse!("the same register is already proposed at sequence {} ({} approval(s) missing)", p.sequence, p.missing));
    }
    let fields = RegisterChangeEvidence::new(&fp, text, &chain.register.fingerprint()).0.at(time).reason(reason);
    let r = ledger.append(Kind::RegisterChange, fields, signer)?;
    let pending = ledger.chain()?.pending.into_iter().find(|p| p.sequence == r.sequence).context("the proposal just appended is pending")?;
    Ok((r, pending))
}

/// What an approval did.
#[derive(Debug)]
pub struct Approved {
    pub record: RecordRef,
    /// `None` once the register is in force, else the approvals still missing.
    pub missing: Option<usize>,
}

/// `signer` approves the register proposed at `sequence`. Refused before anything is written
/// when verification would reject the approval (the proposer, an identity the change alters, a
/// second approval by the same person, a proposal no longer pending).
pub fn approve(paths: &Paths, sequence: u64, signer: &Signer, time: OffsetDateTime) -> Result<Approved> {
    let ledger = paths.ledger()?;
    let chain = ledger.chain()?;
    let Some(p) = chain.pending.iter().find(|p| p.sequence == sequence) else {
        return Err(refuse!(
            "sequence {sequence} is no register change awaiting approval (pending: {})",
            describe_pending(&chain.pending)
        ));
    };
    let who = signer.identity();
    refuse_if!(p.proposer == who, "{who} proposed the register change at sequence {sequence} and cannot approve it");
    refuse_if!(p.changes.contains_key(who), "the register change at sequence {sequence} alters {who}'s own entry ({}): {who} cannot approve it", p.changes[who]);
    refuse_if!(p.approvers.iter().any(|a| a == who), "{who} already approved the register change at sequence {sequence}");
    let fp = p.register.fingerprint();
    let fields = RegisterApprovalEvidence::new(&fp, sequence, &fp).0.at(time);
    let record = ledger.append(Kind::RegisterApproval, fields, signer)?;
    let after = ledger.chain()?;
    let missing = after.pending.iter().find(|p| p.sequence == sequence).map(|p| p.missing);
    if missing.is_none() && after.register.fingerprint() != fp {
        bail!("the register change at sequence {sequence} is neither pending nor in force after the approval");
    }
    Ok(Approved { record, missing })
}

fn describe_pending(pending: &[PendingRegister]) -> String {
    if pending.is_empty() {
        return "none".into();
    }
    pending.iter().map(|p| format!("{} by {}", p.sequence, p.proposer)).collect::<Vec<_>>().join(", ")
}

/// How a working tree's register compares with the chain's.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The register in force.
    InForce,
    /// A pending proposal, still short of its quorum.
    Pending { sequence: u64, missing: usize },
    /// Neither: what it would change, by identity.
    Differs(Vec<(String, String)>),
}

/// Compares the register text `text` (a working tree's) with `chain`'s register.
pub fn compare(chain: &VerifiedChain, text: &str, origin: &str) -> Result<Comparison> {
    let proposal = Identities::parse(text, origin)?;
    let fp = proposal.fingerprint();
    if fp == chain.register.fingerprint() {
        return Ok(Comparison::InForce);
    }
    if let Some(p) = chain.pending.iter().find(|p| p.register.fingerprint() == fp) {
        return Ok(Comparison::Pending { sequence: p.sequence, missing: p.missing });
    }
    Ok(Comparison::Differs(chain.register.changes_to(&proposal).into_iter().collect()))
}

/// The gate's register check (offline): the working tree's register must be the register in
/// force. Without a verified copy of the chain it must be the genesis register that
/// `governance/stores.toml` pins; with one (`cargo xtask evidence pull`), the chain's register,
/// or a pending proposal (reported with the approvals it lacks).
pub fn gate_findings(root: &Path) -> Result<lz_platform::Findings> {
    let mut f = lz_platform::Findings::default();
    let path = root.join(REGISTER_FILE);
    let text = crate::tier::read(&path, lz_input::purpose(REGISTER_FILE))?;
    let proposal = Identities::parse(&text, &path.display().to_string())?;
    let stores = crate::stores::Stores::load(root, lz_platform::localstack::ENDPOINT)?;
    let file = Some(std::path::PathBuf::from(REGISTER_FILE));
    // Rules of new registers (issue 26): the working tree's register is one to propose when it
    // is neither the pinned genesis nor the register in force (or a pending proposal).
    let chain = crate::ledger::cache_ledger(root)?.map(|l| l.chain()).transpose()?;
    let settled = match &chain {
        None => proposal.fingerprint() == stores.genesis_register_sha256,
        Some(chain) => !matches!(compare(chain, &text, REGISTER_FILE)?, Comparison::Differs(_)),
    };
    use lz_evidence::binding::{new_register_problems, prod_and_lower, NewRegister};
    let mut problems = new_register_problems(&proposal, REGISTER_FILE, if settled { NewRegister::Genesis } else { NewRegister::Proposal });
    if !settled {
        problems.extend(prod_and_lower(&proposal, REGISTER_FILE));
    }
    for p in problems {
        let mut parts = p.splitn(3, ':');
        let (line, msg) = (parts.nth(1).and_then(|l| l.parse().ok()), parts.next().unwrap_or_default().trim().to_string());
        f.push("register", file.clone(), line, msg);
    }
    match chain {
        None => {
            if proposal.fingerprint() != stores.genesis_register_sha256 {
                f.push(
                    "register",
                    file,
                    None,
                    format!(
                        "{REGISTER_FILE} (sha256 {}) is not the genesis register pinned in governance/stores.toml ({}) and no verified copy of the chain shows a quorum-approved change to it: run `cargo xtask evidence pull`, then `cargo xtask register status`",
                        proposal.fingerprint(),
                        stores.genesis_register_sha256
                    ),
                );
            }
        }
        Some(chain) => match compare(&chain, &text, REGISTER_FILE)? {
            Comparison::InForce => {}
            Comparison::Pending { sequence, missing } => f.push(
                "register",
                file,
                None,
                format!("{REGISTER_FILE} is the register change proposed at sequence {sequence}, not yet in force: {missing} more approval(s) by people of the security group (`cargo xtask register approve --proposal {sequence} --as ID --key FILE`)"),
            ),
            Comparison::Differs(changes) => {
                for (who, what) in changes {
                    let line = lz_platform::findings::line_containing(&text, &format!("[identity.{who}]"));
                    f.push(
                        "register",
                        file.clone(),
                        line,
                        format!("{REGISTER_FILE} differs from the register in force in the evidence chain: {who} {what}; propose it with `cargo xtask register propose --as ID --key FILE --reason TEXT` and have it approved by a quorum of the security group"),
                    );
                }
            }
        },
    }
    Ok(f)
}
