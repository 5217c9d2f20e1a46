//! The gate validates all of governance/ (issue 22): each broken file, in a copy of the
//! repository, makes `cargo xtask register check` (the gate's governance step) fail naming the
//! file and line; and the register in a working tree is only a proposal: a merged commit that
//! adds an approver changes nothing the chain decides.

mod common;

use common::{checkout, copy_repository, key, ok, root, xtask};

/// One broken governance file: (name, file, text replaced, replacement, exit code, file:line
/// and words the error must carry).
struct Case {
    name: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    code: i32,
    says: &'static [&'static str],
}

const WEAK_KEY: &str = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

const CASES: &[Case] = &[
    // Approval classes (issue 31).
    Case {
        name: "an on-call person nobody registered",
        file: "governance/approval-classes.toml",
        from: "identity = \"noor-aziz\"",
        to: "identity = \"ghost\"",
        code: 1,
        says: &["governance/approval-classes.toml:53", "[class.keys] names ghost, who is not a registered person with the approver role"],
    },
    Case {
        name: "a class without a quorum",
        file: "governance/approval-classes.toml",
        from: "quorum = 1",
        to: "quorum = 0",
        code: 2,
        says: &["approval-classes.toml", "[class.keys]: quorum is 0"],
    },
    Case {
        name: "an unknown group in the approval policy",
        file: "governance/approval-policy.toml",
        from: "required_groups = [\"security\", \"business\"]",
        to: "required_groups = [\"security\", \"traders\"]",
        code: 2,
        says: &["approval-policy.toml:51", "required groups [\"traders\"] are not among the eligible groups"],
    },
    Case {
        name: "an eligible group the register does not have",
        file: "governance/approval-policy.toml",
        from: "groups = [\"platform\", \"security\", \"operations\", \"business\"]",
        to: "groups = [\"platform\", \"security\", \"operations\", \"business\", \"traders\"]",
        code: 1,
        says: &["governance/approval-policy.toml:29", "group \"traders\" is not a group of the register"],
    },
    Case {
        name: "a policy identity nobody registered",
        file: "governance/approval-policy.toml",
        from: "policy_identity = \"change-policy-{env}\"",
        to: "policy_identity = \"ghost-policy\"",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"ghost-policy\" is not an identity"],
    },
    Case {
        name: "the shared policy identity the register no longer has (issue 26)",
        file: "governance/approval-policy.toml",
        from: "policy_identity = \"change-policy-{env}\"",
        to: "policy_identity = \"change-policy\"",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"change-policy\" is not an identity"],
    },
    // Issue 26: a policy identity is a workload with the approver role bound to its environment,
    // never an environment's deployer.
    Case {
        name: "each environment's deployer named as its policy identity",
        file: "governance/approval-policy.toml",
        from: "policy_identity = \"change-policy-{env}\"",
        to: "policy_identity = \"deploy-pipeline-{env}\"",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"deploy-pipeline-dev\" has no approver role", "\"deploy-pipeline-prod\" has no approver role"],
    },
    Case {
        name: "prod's policy identity bound to preprod",
        file: "governance/identities.toml",
        from: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"prod\"]",
        to: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"preprod\"]",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"change-policy-prod\" of prod is not bound to prod"],
    },
    // The exact binding (issue 26): a policy identity bound to its environment and another is
    // refused, so no key another environment's jobs hold signs its automatic approvals.
    Case {
        name: "dev's policy identity bound to dev and prod",
        file: "governance/identities.toml",
        from: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"dev\"]",
        to: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"dev\", \"prod\"]",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"change-policy-dev\" of dev is not bound to dev alone", "bound to dev, prod"],
    },
    Case {
        name: "prod's policy identity bound to every environment",
        file: "governance/identities.toml",
        from: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"prod\"]",
        to: "roles = [\"approver\", \"deployer\"]\nenvironments = [\"all\"]",
        code: 1,
        says: &["governance/approval-policy.toml:15", "policy_identity \"change-policy-prod\" of prod is not bound to prod alone"],
    },
    Case {
        name: "an unknown tier in the approval policy",
        file: "governance/approval-policy.toml",
        from: "[tiers.normal]",
        to: "[tiers.urgent]",
        code: 2,
        says: &["approval-policy.toml:", "\"urgent\" is not a tier"],
    },
    Case {
        name: "an unknown tier in the risk tiers",
        file: "governance/risk-tiers.toml",
        from: "default_tier = \"normal\"",
        to: "default_tier = \"medium\"",
        code: 2,
        says: &["risk-tiers.toml:17", "default_tier \"medium\" is not a tier"],
    },
    Case {
        name: "an unknown field in the change windows",
        file: "governance/change-windows.toml",
        from: "from = \"07:30\"\nto = \"08:00\"",
        to: "from = \"07:30\"\nto = \"08:00\"\nenvironments_note = \"x\"",
        code: 2,
        says: &["change-windows.toml:", "environments_note"],
    },
    Case {
        name: "two closed periods of prod that overlap",
        file: "governance/change-windows.toml",
        from: "environments = [\"preprod\"]\ndays = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"]\nfrom = \"07:30\"\nto = \"08:00\"",
        to: "environments = [\"prod\"]\ndays = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"]\nfrom = \"07:30\"\nto = \"09:00\"",
        code: 1,
        says: &["governance/change-windows.toml:", "closed period \"pre-market checks\" overlaps closed period \"market hours\""],
    },
    Case {
        name: "a weak key in the register",
        file: "governance/identities.toml",
        from: "public_key = \"M2fxSHwxapOLxo/d2mYfqIo/p75eCO83n1ms0Xs4lVM=\"",
        to: "public_key = \"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
        code: 2,
        says: &["identities.toml:", "weak ed25519 public key"],
    },
    Case {
        name: "a duplicate key in the register",
        file: "governance/identities.toml",
        from: "public_key = \"M2fxSHwxapOLxo/d2mYfqIo/p75eCO83n1ms0Xs4lVM=\"",
        to: "public_key = \"Us9ah9Y4QvfBAuIw50JSYXMh/BGhswtrlChMJinvXCw=\"",
        code: 2,
        says: &["identities.toml:", "reuses the public key of"],
    },
    Case {
        name: "an unknown group in the register",
        file: "governance/identities.toml",
        from: "group = \"business\"",
        to: "group = \"trading\"",
        code: 2,
        says: &["identities.toml:", "group \"trading\" is not one of"],
    },
    Case {
        name: "a register quorum of one",
        file: "governance/identities.toml",
        from: "register_quorum = 2",
        to: "register_quorum = 1",
        code: 2,
        says: &["identities.toml:", "register_quorum = 1 must be between 2 and 64"],
    },
    // Issue 26: a new register binds a workload whose key is in KMS to its environments (a
    // register already in a chain verifies without it; the gate judges the one to propose).
    Case {
        name: "a KMS workload bound to no environment",
        file: "governance/identities.toml",
        from: "roles = [\"deployer\"]\nenvironments = [\"dev\"]\npublic_key = \"+tDJkAIxEl28Uyf4BimxpdXrY5Z8RQxmi3Sr+iZ7jsw=\"",
        to: "roles = [\"deployer\"]\nalgorithm = \"ecdsa-p256-sha256\"\npublic_key = \"Ao5TO2+gv3tGJbswZnwB+2B++fi4qA/vWzAGKHAxh7Kj\"\nkms_key = \"alias/lz-deploy\"",
        code: 1,
        says: &["governance/identities.toml:114", "identity deploy-pipeline-dev: a workload whose key is in KMS (kms_key) must name the environments"],
    },
    Case {
        name: "a proposed register with a deployer bound to prod and dev",
        file: "governance/identities.toml",
        from: "roles = [\"deployer\"]\nenvironments = [\"prod\"]",
        to: "roles = [\"deployer\"]\nenvironments = [\"dev\", \"prod\"]",
        code: 1,
        says: &["governance/identities.toml:146: [register] identity deploy-pipeline-prod: a deployer bound to prod and to dev"],
    },
    Case {
        name: "a proposed register with an unbound pipeline workload",
        file: "governance/identities.toml",
        from: "roles = [\"deployer\"]\nenvironments = [\"dev\"]\npublic_key = \"+tDJ",
        to: "roles = [\"deployer\"]\npublic_key = \"+tDJ",
        code: 1,
        says: &["governance/identities.toml:114: [register] identity deploy-pipeline-dev: a workload with the deployer or approver role must name the environments it signs for"],
    },
    Case {
        name: "a drift class without an owner",
        file: "governance/drift-classes.toml",
        from: "owner = \"platform (platform-team@example.internal)\"",
        to: "owner = \"\"",
        code: 2,
        says: &["drift-classes.toml:15:", "drift class tags needs attributes and an owner"],
    },
    Case {
        name: "stores without a genesis pin",
        file: "governance/stores.toml",
        from: "genesis_register_sha256 = \"",
        to: "# genesis_register_sha256 = \"",
        code: 2,
        says: &["stores.toml", "missing genesis_register_sha256"],
    },
    Case {
        name: "a voucher age beyond a week",
        file: "governance/stores.toml",
        from: "max_voucher_age_hours = 24",
        to: "max_voucher_age_hours = 500",
        code: 2,
        says: &["governance/stores.toml:38:", "max_voucher_age_hours = 500 is not between 1 and 168 hours"],
    },
    Case {
        name: "a voucher age that is not a number of hours",
        file: "governance/stores.toml",
        from: "max_voucher_age_hours = 24",
        to: "max_voucher_age_hours = \"a day\"",
        code: 2,
        says: &["governance/stores.toml:38:"],
    },
    Case {
        name: "stores in an unknown environment",
        file: "governance/stores.toml",
        from: "environment     = \"prod\"",
        to: "environment     = \"production\"",
        code: 2,
        says: &["stores.toml", "environment \"production\" is not one of"],
    },
    Case {
        name: "stores whose log archive declares no COMPLIANCE Object Lock",
        file: "modules/log-archive/main.tf",
        from: "lock_mode = \"COMPLIANCE\"",
        to: "lock_mode = \"GOVERNANCE\"",
        code: 2,
        says: &["governance/stores.toml: the stores' settings", "the stores need COMPLIANCE with a retention"],
    },
    Case {
        name: "a rotation policy owned by an unknown group",
        file: "governance/rotation.toml",
        from: "owner_group = \"",
        to: "owner_group = \"nobody-",
        code: 2,
        says: &["rotation.toml:36:", "owner_group \"nobody-operations\" is not one of"],
    },
];

#[test]
fn the_repository_governance_is_clean() {
    let out = ok(&root(), &["register", "check"]);
    assert!(out.contains("governance: 0 finding(s)"), "{out}");
}

#[test]
fn every_broken_governance_file_fails_the_gate_naming_file_and_line() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        copy_repository(dir.path());
        let path = dir.path().join(case.file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(case.from), "{}: {} has no {:?}", case.name, case.file, case.from);
        std::fs::write(&path, text.replacen(case.from, case.to, 1)).unwrap();
        let (code, out, err) = xtask(dir.path(), &["register", "check"]);
        let all = format!("{out}{err}");
        let missing: Vec<_> = case.says.iter().filter(|s| !all.contains(*s)).collect();
        if code != case.code || !missing.is_empty() {
            failures.push(format!("{}: exit {code} (want {}), missing {missing:?} in:\n{all}", case.name, case.code));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(CASES.iter().any(|c| c.to.contains(WEAK_KEY)));
}

/// The gate runs the governance step: a broken file fails `cargo xtask check` too.
#[test]
fn check_runs_the_governance_step() {
    let (dir, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(dir.path(), keys.path());
    let path = dir.path().join("governance/approval-policy.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("policy_identity = \"change-policy-{env}\"", "policy_identity = \"ghost-policy\"", 1)).unwrap();
    let (code, out, err) = xtask(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("policy_identity \"ghost-policy\" is not an identity"), "{out}{err}");
}

/// A merged commit that adds a security approver to the working tree's register needs no key,
/// and changes nothing: the chain's register decides, the gate names the difference, and the
/// new approver's approval is refused; the register changes only with a quorum.
#[test]
fn a_register_commit_is_a_proposal_until_a_quorum_approves_it() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let d = d.path();
    checkout(d, keys.path());
    ok(d, &["bootstrap", "--stores", "--as", "bob", "--key", &key(keys.path(), "bob")]);
    ok(d, &["register", "check"]);
    // The insider's commit: a new security approver whose key they hold.
    let mallory = keys.path().join("mallory.key");
    let out = ok(d, &["evidence", "keygen", "--out", &mallory.display().to_string()]);
    let public = out.lines().find_map(|l| l.strip_prefix("public_key = ")).unwrap().trim().to_string();
    let register = d.join("governance/identities.toml");
    let mut text = std::fs::read_to_string(&register).unwrap();
    text.push_str(&format!(
        "\n[identity.mallory]\nname = \"Mallory\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = {public}\n"
    ));
    std::fs::write(&register, &text).unwrap();
    // The gate fails: the working tree is not the register in force.
    let (code, out, err) = xtask(d, &["register", "check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("is not the genesis register pinned in governance/stores.toml"), "{out}");
    let (code, out, _) = xtask(d, &["register", "status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("mallory: added (person of group security, roles [approver])"), "{out}");
    // mallory signs nothing: the register in force does not know her.
    let (code, out, err) = xtask(d, &["register", "propose", "--as", "mallory", "--key", &mallory.display().to_string(), "--reason", "me"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("mallory is not in the identities register"), "{err}");
    // One security approver's proposal is not enough: bob proposes, bob cannot approve.
    let out = ok(d, &["register", "propose", "--as", "bob", "--key", &key(keys.path(), "bob"), "--reason", "CHG-5 mallory joins"]);
    let seq = out.split("at sequence ").nth(1).and_then(|s| s.split(':').next()).unwrap().to_string();
    let (code, _, err) = xtask(d, &["register", "approve", "--proposal", &seq, "--as", "bob", "--key", &key(keys.path(), "bob")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bob proposed the register change"), "{err}");
    let out = ok(d, &["register", "approve", "--proposal", &seq, "--as", "frank", "--key", &key(keys.path(), "frank")]);
    assert!(out.contains("1 more approval(s) needed"), "{out}");
    let (code, out, _) = xtask(d, &["register", "status"]);
    assert_eq!(code, 1, "pending is not in force: {out}");
    assert!(out.contains(&format!("the proposal at sequence {seq}, 1 approval(s) missing")), "{out}");
    let out = ok(d, &["register", "approve", "--proposal", &seq, "--as", "heidi", "--key", &key(keys.path(), "heidi")]);
    assert!(out.contains("it is in force"), "{out}");
    ok(d, &["register", "status"]);
    // With a verified copy of the chain, the gate accepts the register now in force.
    ok(d, &["evidence", "pull"]);
    let out = ok(d, &["register", "check"]);
    assert!(out.contains("governance: 0 finding(s)"), "{out}");
}
