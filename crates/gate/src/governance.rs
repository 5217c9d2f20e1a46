//! The gate's governance check (offline): every file of `governance/` parsed with the loader
//! that decisions use, then checked for meaning, each error with file:line. A file that cannot
//! be parsed, or breaks a rule its loader enforces, is an input error (exit 2); a
//! well-formed file whose content contradicts the rest of governance is a finding (exit 1).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::identity::GROUPS;
use lz_evidence::Identities;
use lz_platform::findings::line_containing;
use lz_platform::Findings;

use lz_promote::approval::ApprovalPolicy;
use lz_operate::remediate::DriftClasses;
use lz_promote::tier::{RiskRules, Tier};
use lz_promote::window::ChangeWindows;

const CHECK: &str = "governance";

/// A loader's error with the line it concerns: a message that names no line gets the line of
/// the first value it quotes (loaders quote the offending value), else line 1.
fn located(origin: &str, text: &str, err: anyhow::Error) -> anyhow::Error {
    let msg = format!("{err:#}");
    let Some(rest) = msg.strip_prefix(&format!("{origin}: ")) else {
        return err;
    };
    let quoted = rest.split('"').nth(1).filter(|q| !q.is_empty());
    let line = quoted.and_then(|q| line_containing(text, q)).unwrap_or(1);
    anyhow::anyhow!("{origin}:{line}: {rest}")
}

/// Reads `rel` under `root` and parses it with `parse`, errors located.
fn load<T>(root: &Path, rel: &str, parse: impl FnOnce(&str, &str) -> Result<T>) -> Result<(T, String)> {
    let path = root.join(rel);
    let text = lz_input::read_required(&path, lz_input::purpose(rel))?;
    let origin = path.display().to_string();
    let value = parse(&text, &origin).map_err(|e| located(&origin, &text, e))?;
    Ok((value, text))
}

/// Every governance file, parsed and checked against the rest of governance.
pub fn findings(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    let (ids, _) = load(root, lz_promote::register::REGISTER_FILE, Identities::parse)?;
    let (policy, policy_text) = load(root, lz_promote::approval::APPROVAL_POLICY, ApprovalPolicy::parse)?;
    let (windows, windows_text) = load(root, lz_promote::window::CHANGE_WINDOWS, ChangeWindows::parse)?;
    load(root, lz_promote::tier::RISK_TIERS, RiskRules::parse)?;
    load(root, lz_operate::remediate::DRIFT_CLASSES, DriftClasses::parse)?;
    load(root, lz_promote::rotation::POLICY_FILE, lz_promote::rotation::Policy::parse)?;
    // Approval classes (issue 31): optional; when present, parsed and its people registered.
    if root.join(lz_promote::classes::APPROVAL_CLASSES).is_file() {
        let (classes, text) = load(root, lz_promote::classes::APPROVAL_CLASSES, lz_promote::classes::Classes::parse)?;
        for m in classes.unknown_people(&ids) {
            let name = m.split(" names ").nth(1).and_then(|r| r.split(',').next()).unwrap_or_default();
            f.push(CHECK, Some(PathBuf::from(lz_promote::classes::APPROVAL_CLASSES)), line_containing(&text, &format!("\"{name}\"")), m);
        }
    }
    let stores = lz_promote::stores::Stores::load(root, lz_platform::localstack::ENDPOINT)?;
    let plan = lz_promote::release::render_env(root, &stores.environment)
        .with_context(|| format!("rendering the plan of {} (it hosts the stores)", stores.environment))?;
    stores.specs(&plan).with_context(|| format!("{}: the stores' settings", root.join(lz_promote::stores::STORES_FILE).display()))?;

    let file = |rel: &str| Some(PathBuf::from(rel));
    // Approval policy: groups and the policy identity exist.
    for env in lz_platform::ENVIRONMENTS {
        for t in Tier::ALL {
            let r = policy.requirement(t, env);
            for g in r.groups.iter().chain(&r.required_groups) {
                if !GROUPS.contains(&g.as_str()) {
                    f.push(
                        CHECK,
                        file(lz_promote::approval::APPROVAL_POLICY),
                        line_containing(&policy_text, &format!("\"{g}\"")),
                        format!("{env}/{t}: group {g:?} is not a group of the register ({})", GROUPS.join(", ")),
                    );
                }
            }
        }
    }
    // Each environment's policy identity (`{env}` in policy_identity: one per environment, issue
    // 26) exists, is a workload with the approver role (so the record rule `policy-identity`
    // keeps it from signing what is deployed or observed: no deployer is also a policy
    // identity), and is bound to that environment alone in the register (an identity bound to
    // several, or to "all", is refused: another environment's jobs could sign its approvals).
    let mut seen = std::collections::BTreeSet::new();
    for env in lz_platform::ENVIRONMENTS {
        let name = policy.policy_identity_of(env);
        let problem = match ids.get(&name) {
            Some(id) if id.is_person() => Some(format!("policy_identity {name:?} is a person: automatic approvals are recorded by a workload")),
            Some(id) if !id.has_role(lz_evidence::identity::Role::Approver) => Some(format!(
                "policy_identity {name:?} has no approver role: a policy identity is a workload with the approver role, which signs no deployment, drift, rotation or adoption record (a deployer is never also the policy identity)"
            )),
            Some(id) if !id.environments.as_ref().is_some_and(|bound| bound.len() == 1 && bound[0] == env) => Some(format!(
                "policy_identity {name:?} of {env} is not bound to {env} alone in {} (environments = [\"{env}\"], bound to {}): a policy identity signs only its environment's evaluations and automatic approvals, so a key another environment's jobs hold never approves this one's changes",
                lz_promote::register::REGISTER_FILE,
                id.environments.as_ref().map(|b| b.join(", ")).unwrap_or_else(|| "every environment".into())
            )),
            Some(_) => None,
            None => Some(format!("policy_identity {name:?} is not an identity of {}", lz_promote::register::REGISTER_FILE)),
        };
        if let Some(p) = problem.filter(|p| seen.insert(p.clone())) {
            f.push(CHECK, file(lz_promote::approval::APPROVAL_POLICY), line_containing(&policy_text, "policy_identity"), p);
        }
    }
    // Change windows: no two closed periods or freezes of one environment overlap.
    for (a, b) in windows.overlaps() {
        let reason = b.split('"').nth(1).unwrap_or_default();
        let line = line_containing(&windows_text, &format!("\"{reason}\""));
        f.push(CHECK, file(lz_promote::window::CHANGE_WINDOWS), line, format!("{b} overlaps {a}: state each shut time once"));
    }
    f.extend(lz_promote::register::gate_findings(root)?);
    Ok(f)
}
