//! The exception lifecycle as a case table (`tests/data/exception_cases.toml`).
use std::path::PathBuf;

use lz_policy::exceptions::{parse_date, Register, REGISTER_RULE};
use lz_policy::{Finding, Options, Policies};
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    today: String,
    environment: String,
    finding_address: String,
    excepted: bool,
    problems: Vec<String>,
    register: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn finding(address: &str) -> Finding {
    Finding {
        rule_id: "LZ-S3-003".to_string(),
        severity: "medium".to_string(),
        address: address.to_string(),
        message: "versioning status is Suspended, not Enabled".to_string(),
        excepted: false,
        exception_id: None,
        unverifiable: false,
    }
}

#[test]
fn exception_lifecycle_cases() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/exception_cases.toml"),
    )
    .unwrap();
    let cases: Cases = toml::from_str(&text).unwrap();
    assert!(cases.case.len() >= 8);
    let opts = Options::for_root(&root());
    let policies = Policies::load(&opts.policies, &opts.settings).unwrap();
    for case in &cases.case {
        let file = dir.path().join("exceptions.toml");
        std::fs::write(&file, &case.register).unwrap();
        let today = parse_date(&case.today).unwrap();
        let mut opts = Options::for_root(&root());
        opts.exceptions = Some(file.clone());
        // The cases' approvers are not registered people: this table checks the entries' own
        // rules (the identity checks have their own test below).
        opts.identities = None;
        opts.today = Some(today);
        let report = lz_policy::finish(
            &policies,
            vec![finding(&case.finding_address)],
            &case.environment,
            &opts,
        )
        .unwrap();
        let target = report
            .findings
            .iter()
            .find(|f| f.rule_id == "LZ-S3-003")
            .unwrap();
        assert_eq!(target.excepted, case.excepted, "{}", case.name);
        assert_eq!(
            target.exception_id.is_some(),
            case.excepted,
            "{}",
            case.name
        );
        let problems: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == REGISTER_RULE)
            .collect();
        assert_eq!(
            problems.len(),
            case.problems.len(),
            "{}: {problems:?}",
            case.name
        );
        for (p, want) in problems.iter().zip(&case.problems) {
            assert!(
                p.message.contains(want),
                "{}: {} lacks {want}",
                case.name,
                p.message
            );
            let register = Register::load(&file).unwrap();
            let id = &register.exceptions[0].id;
            assert!(
                p.message.contains(id.as_str()),
                "{}: {} does not name {id}",
                case.name,
                p.message
            );
            assert!(
                p.address.ends_with(":2"),
                "{}: {} does not name the line",
                case.name,
                p.address
            );
        }
        // The gate passes only when the finding is excepted by a valid entry.
        assert_eq!(report.passed(), case.excepted, "{}", case.name);
        let summary = report.summary();
        assert_eq!(
            summary.excepted,
            usize::from(case.excepted),
            "{}",
            case.name
        );
    }
}

#[test]
fn toml_errors_name_file_and_line() {
    let err = Register::parse(
        "[[exception]]\nid = \"EXC-1\"\nrule_id = \n",
        "governance/exceptions.toml",
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.starts_with("governance/exceptions.toml:3:"), "{msg}");
    let err = Register::parse(
        "[[exception]]\nid = \"EXC-1\"\nrule_id = \"LZ-S3-003\"\n",
        "x.toml",
    )
    .unwrap_err();
    assert!(format!("{err:#}").starts_with("x.toml:1:"), "{err:#}");
    let bad_date = "[[exception]]\nid = \"EXC-9\"\nrule_id = \"LZ-S3-003\"\nscope = { environment = \"dev\", address = \"*\" }\njustification = \"j\"\ncompensating_control = \"c\"\nowner = \"o\"\napprover = \"a\"\nticket = \"t\"\ncreated = \"26/11/2026\"\nexpires = 2026-12-01\n";
    let msg = format!("{:#}", Register::parse(bad_date, "r.toml").unwrap_err());
    assert!(msg.contains("r.toml:2") && msg.contains("EXC-9"), "{msg}");
}

#[test]
fn shipped_register_is_valid() {
    let register = Register::load(&root().join("governance/exceptions.toml")).unwrap();
    let today = parse_date("2026-11-26").unwrap();
    assert!(register.problems(today).is_empty());
}

#[test]
fn lz_today_moves_nothing() {
    // The only test in this binary touching LZ_TODAY: the variable no longer exists.
    std::env::set_var("LZ_TODAY", "2035-01-01");
    assert_eq!(
        lz_policy::today().unwrap(),
        time::OffsetDateTime::now_utc().date()
    );
    std::env::remove_var("LZ_TODAY");
}

const IDENTITIES: &str = r#"
[identity.priya-raman]
name = "Priya Raman"
kind = "person"
group = "platform"
roles = ["author"]

[identity.grace-lindqvist]
name = "Grace Lindqvist"
kind = "person"
group = "security"
roles = ["approver"]

[identity.lena-fischer]
name = "Lena Fischer"
kind = "person"
group = "operations"
roles = ["approver"]

[identity.change-policy]
name = "Change policy"
kind = "workload"
group = "security"
roles = ["approver"]
"#;

#[test]
fn approvers_are_registered_security_approvers_other_than_the_owner() {
    // (owner, approver, created, the problem, or "" for none)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("priya-raman", "grace-lindqvist", "2026-11-20", ""),
        ("priya-raman", "Grace Lindqvist", "2026-11-20", "names approver \"Grace Lindqvist\", who is not a registered identity"),
        ("priya-raman", "security-architecture", "2026-11-20", "names approver \"security-architecture\", who is not a registered identity"),
        ("trading-desk", "grace-lindqvist", "2026-11-20", "names owner \"trading-desk\", who is not a registered identity"),
        ("Priya Raman", "grace-lindqvist", "2026-11-20", ""),
        ("priya-raman", "lena-fischer", "2026-11-20", "names approver lena-fischer, who is not a person of the security group with the approver role"),
        ("priya-raman", "change-policy", "2026-11-20", "names approver change-policy, who is not a person of the security group with the approver role"),
        ("Grace Lindqvist", "grace-lindqvist", "2026-11-20", "is approved by its own owner grace-lindqvist (owner spelled \"Grace Lindqvist\")"),
        ("GRACE_LINDQVIST", "grace-lindqvist", "2026-11-20", "is approved by its own owner grace-lindqvist"),
        ("priya-raman", "grace-lindqvist", "2035-01-01", "was created on 2035-01-01, after today (2026-11-26)"),
    ];
    let today = parse_date("2026-11-26").unwrap();
    for (owner, approver, created, want) in cases {
        let text = format!(
            "[[exception]]\nid = \"EXC-9\"\nrule_id = \"LZ-S3-003\"\nscope = {{ environment = \"dev\", address = \"*\" }}\njustification = \"j\"\ncompensating_control = \"c\"\nowner = \"{owner}\"\napprover = \"{approver}\"\nticket = \"t\"\ncreated = {created}\nexpires = 2027-01-20\n"
        );
        let register = Register::parse(&text, "r.toml")
            .unwrap()
            .with_identities(IDENTITIES, "identities.toml")
            .unwrap();
        let problems: Vec<String> = register
            .problems(today)
            .into_iter()
            .map(|f| f.message)
            .filter(|m| !m.contains("lasts"))
            .collect();
        if want.is_empty() {
            assert!(problems.is_empty(), "{owner}/{approver}: {problems:?}");
            assert!(register.covering(&finding("x"), "dev", today).is_some());
        } else {
            assert!(
                problems.iter().any(|p| p.contains(want)),
                "{owner}/{approver}/{created}: {problems:?} lacks {want}"
            );
            assert!(register.covering(&finding("x"), "dev", today).is_none());
        }
    }
}

#[test]
fn the_repository_register_is_checked_against_the_repository_identities() {
    let register =
        Register::load_with_identities(&root().join("governance/exceptions.toml"), &root().join("governance/identities.toml")).unwrap();
    assert!(register.identities.is_some());
    let today = parse_date("2026-11-27").unwrap();
    assert!(register.problems(today).is_empty(), "{:?}", register.problems(today));
}
