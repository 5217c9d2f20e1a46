//! Risk tiers, segregation of duties and change windows as data tables, against the
//! repository's governance registers.

use std::path::{Path, PathBuf};

use lz_promote::approval::{self, ApprovalPolicy, Vote};
use lz_promote::window::ChangeWindows;
use lz_promote::{Action, Change, Diff, RiskRules, Tier};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (environment, address, action, changed paths, tier, rule)
type TierCase<'a> = (&'a str, &'a str, Action, &'a [&'a str], Tier, &'a str);
/// (tier, environment, votes, deployer, counted approvals or the refusal)
type SodCase<'a> = (Tier, &'a str, Vec<Vote>, &'a str, Result<usize, String>);

fn change(address: &str, action: Action, paths: &[&str]) -> Change {
    let resource_type = address
        .split('.')
        .rev()
        .nth(1)
        .unwrap_or("")
        .split('[')
        .next()
        .unwrap_or("")
        .to_string();
    Change {
        address: address.into(),
        resource_type,
        action,
        paths: paths.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn each_resource_gets_the_tier_of_its_first_matching_rule() {
    let rules = RiskRules::load(&root()).unwrap();
    // (env, address, action, changed paths, tier, rule)
    let cases: &[TierCase] = &[
        (
            "prod",
            "module.network.aws_vpc.this",
            Action::Update,
            &["tags.Owner"],
            Tier::Standard,
            "tags-only",
        ),
        (
            "prod",
            "module.identity.aws_iam_role.this",
            Action::Update,
            &["tags.CostCentre", "tags_all.CostCentre"],
            Tier::Standard,
            "tags-only",
        ),
        (
            "prod",
            "module.identity.aws_iam_role.this",
            Action::Update,
            &["tags.Owner", "max_session_duration"],
            Tier::High,
            "iam",
        ),
        (
            "dev",
            "module.identity.aws_iam_policy.boundary[0]",
            Action::Create,
            &["policy"],
            Tier::High,
            "iam",
        ),
        (
            "prod",
            "module.kms.aws_kms_key.this",
            Action::Update,
            &["policy"],
            Tier::High,
            "kms",
        ),
        (
            "dev",
            "module.kms.aws_kms_key.this",
            Action::Update,
            &["enable_key_rotation"],
            Tier::High,
            "kms",
        ),
        (
            "prod",
            "module.secrets.aws_secretsmanager_secret.this",
            Action::Update,
            &["description"],
            Tier::High,
            "secrets",
        ),
        (
            "test",
            "module.network.aws_subnet.this",
            Action::Create,
            &["cidr_block"],
            Tier::High,
            "network-perimeter",
        ),
        (
            "test",
            "module.network.aws_route.this",
            Action::Update,
            &["destination_cidr_block"],
            Tier::High,
            "network-perimeter",
        ),
        (
            "uat",
            "module.service.aws_security_group.this",
            Action::Update,
            &["description"],
            Tier::High,
            "trading-service-security-groups",
        ),
        (
            "uat",
            "module.service[\"risk-engine\"].aws_vpc_security_group_ingress_rule.this",
            Action::Create,
            &["from_port"],
            Tier::High,
            "trading-service-security-groups",
        ),
        (
            "dev",
            "module.state_backend.aws_s3_bucket.this",
            Action::Replace,
            &["bucket"],
            Tier::High,
            "stateful-delete-or-replace",
        ),
        (
            "dev",
            "module.log_archive.aws_s3_bucket.this",
            Action::Delete,
            &[],
            Tier::High,
            "stateful-delete-or-replace",
        ),
        (
            "dev",
            "module.state_backend.aws_s3_bucket.this",
            Action::Update,
            &["tags.Owner"],
            Tier::Standard,
            "tags-only",
        ),
        (
            "dev",
            "module.log_archive.aws_s3_bucket_policy.this",
            Action::Update,
            &["policy"],
            Tier::High,
            "key-and-resource-policies",
        ),
        (
            "dev",
            "module.log_archive.aws_s3_bucket_public_access_block.this",
            Action::Update,
            &["block_public_acls"],
            Tier::High,
            "bucket-access",
        ),
        (
            "prod",
            "module.state_backend.aws_s3_bucket_versioning.this",
            Action::Update,
            &["versioning_configuration[0].status"],
            Tier::High,
            "audit-controls",
        ),
        (
            "prod",
            "module.ops.aws_cloudwatch_dashboard.this",
            Action::Update,
            &["dashboard_body"],
            Tier::Standard,
            "dashboards",
        ),
        (
            "dev",
            "module.service.aws_cloudwatch_log_group.this",
            Action::Update,
            &["retention_in_days"],
            Tier::Standard,
            "non-prod-logging",
        ),
        (
            "prod",
            "module.service.aws_cloudwatch_log_group.this",
            Action::Update,
            &["retention_in_days"],
            Tier::Normal,
            "default",
        ),
        (
            "prod",
            "module.service.aws_cloudwatch_log_group.this",
            Action::Delete,
            &[],
            Tier::High,
            "stateful-delete-or-replace",
        ),
        (
            "preprod",
            "module.service.aws_ecs_service.this",
            Action::Update,
            &["desired_count"],
            Tier::Normal,
            "default",
        ),
    ];
    for (env, address, action, paths, tier, rule) in cases {
        let diff = Diff {
            changes: vec![change(address, *action, paths)],
        };
        let c = rules.classify(&diff, env);
        let r = &c.resources[0];
        assert_eq!(
            (r.tier, r.rule.as_str()),
            (*tier, *rule),
            "{env} {address} {action:?} {paths:?}"
        );
        assert_eq!(c.tier, *tier);
    }
}

#[test]
fn a_change_takes_the_highest_tier_of_its_resources_and_empty_is_standard() {
    let rules = RiskRules::load(&root()).unwrap();
    let diff = Diff {
        changes: vec![
            change(
                "module.network.aws_vpc.this",
                Action::Update,
                &["tags.Owner"],
            ),
            change(
                "module.service.aws_ecs_service.this",
                Action::Update,
                &["desired_count"],
            ),
        ],
    };
    assert_eq!(rules.classify(&diff, "prod").tier, Tier::Normal);
    assert_eq!(
        rules.classify(&Diff::default(), "prod").tier,
        Tier::Standard
    );
}

#[test]
fn malformed_rules_are_errors_naming_the_file_and_line() {
    let cases: &[(&str, &str)] = &[
        ("default_tier = \"normal\"\n[[rule]]\nid = \"x\"\ntier = \"urgent\"\nreason = \"r\"\ntypes = [\"a\"]\n", "rules.toml: rule x: tier \"urgent\" is not one of standard, normal, high"),
        ("default_tier = \"normal\"\n[[rule]]\nid = \"x\"\ntier = \"emergency\"\nreason = \"r\"\ntypes = [\"a\"]\n", "rules.toml: rule x: the emergency tier comes only from break-glass, never from a rule"),
        ("default_tier = \"normal\"\n[[rule]]\nid = \"x\"\ntier = \"high\"\nreason = \"r\"\n", "rules.toml: rule x: matches every resource: set types, addresses, actions or attributes"),
        ("default_tier = \"normal\"\n[[rule]]\nid = \"x\"\ntier = \"high\"\nreason = \"r\"\nactions = [\"destroy\"]\n", "rules.toml: rule x: action \"destroy\" is not create, update, delete or replace"),
        ("default_tier = \"normal\"\n[[rule]]\nid = \"x\"\ntier = \"high\"\nreason = \"r\"\ntypes = [\"a\"]\ncolour = 1\n", "rules.toml:7:1: unknown field `colour`, expected one of `id`, `tier`, `reason`, `types`, `addresses`, `actions`, `environments`, `attributes`, `attributes_match`"),
    ];
    for (text, want) in cases {
        assert_eq!(
            RiskRules::parse(text, "rules.toml")
                .unwrap_err()
                .to_string(),
            *want
        );
    }
}

fn vote(identity: &str, group: &str, seq: u64) -> Vote {
    Vote {
        identity: identity.into(),
        group: group.into(),
        plan_digest: "p".repeat(64),
        sequence: seq,
    }
}

#[test]
fn segregation_of_duties_and_approval_counts() {
    let policy = ApprovalPolicy::load(&root()).unwrap();
    let release = "a".repeat(64);
    let plan = "p".repeat(64);
    let r = &release[..12];
    // (tier, env, votes, deployer, Ok or the exact refusal)
    let cases: Vec<SodCase> = vec![
        (Tier::Standard, "prod", vec![], "deployer-bot", Ok(0)),
        (Tier::Normal, "dev", vec![vote("bob", "security", 1)], "deployer-bot", Ok(1)),
        (Tier::Normal, "dev", vec![], "deployer-bot", Err(format!("release {r} to dev (tier normal) needs 1 approvals from platform, security, operations by different people, has 0: none"))),
        (Tier::Normal, "dev", vec![vote("alice", "platform", 3)], "deployer-bot", Err(format!("release {r} to dev (tier normal) needs 1 approvals from platform, security, operations by different people, has 0: none; not counted: alice (alice authored the release)"))),
        (Tier::Normal, "dev", vec![vote("dave", "operations", 4)], "dave", Err(format!("dave approved release {r} for dev (record 4) and cannot deploy it (segregation of duties)"))),
        (Tier::High, "dev", vec![vote("bob", "security", 1), vote("bob", "security", 2)], "deployer-bot", Err(format!("release {r} to dev (tier high) needs 2 approvals from platform, security, operations, business by different people, has 1: bob (security); not counted: bob (bob already approved)"))),
        (Tier::High, "dev", vec![vote("bob", "security", 1), vote("frank", "security", 2)], "deployer-bot", Err(format!("release {r} to dev (tier high) needs approvals from different groups: bob and frank are both in group security"))),
        (Tier::High, "dev", vec![vote("erin", "platform", 1), vote("carol", "business", 2)], "deployer-bot", Err(format!("release {r} to dev (tier high) needs an approval from group security; approvals: erin (platform), carol (business)"))),
        (Tier::High, "dev", vec![vote("erin", "platform", 1), vote("bob", "security", 2)], "deployer-bot", Ok(2)),
        (Tier::High, "prod", vec![vote("erin", "platform", 1), vote("bob", "security", 2)], "deployer-bot", Err(format!("release {r} to prod (tier high) needs an approval from group business; approvals: erin (platform), bob (security)"))),
        (Tier::High, "prod", vec![vote("carol", "business", 1), vote("bob", "security", 2)], "deployer-bot", Ok(2)),
        (Tier::Normal, "prod", vec![vote("carol", "business", 1), vote("dave", "operations", 2)], "deployer-bot", Err(format!("release {r} to prod (tier normal) needs 2 approvals from platform, security, operations by different people, has 1: dave (operations); not counted: carol (group business is not eligible for a normal change to prod (eligible: platform, security, operations))"))),
    ];
    for (i, (tier, env, votes, deployer, want)) in cases.into_iter().enumerate() {
        let req = policy.requirement(tier, env);
        let request = approval::Request {
            release: &release,
            environment: env,
            plan_digest: &plan,
            author: Some("alice"),
            deployer,
        };
        let got = approval::evaluate(&req, &request, &votes)
            .map(|d| d.counted.len())
            .map_err(|e| e.to_string());
        assert_eq!(got, want, "case {i}: {tier} {env}");
    }
    assert_eq!(
        approval::may_approve("alice", Some("alice"), &release)
            .unwrap_err()
            .to_string(),
        format!("alice authored release {r} and cannot approve it (segregation of duties)")
    );
    let stale = Vote {
        plan_digest: "q".repeat(64),
        ..vote("bob", "security", 9)
    };
    let req = policy.requirement(Tier::Normal, "dev");
    let request = approval::Request {
        release: &release,
        environment: "dev",
        plan_digest: &plan,
        author: None,
        deployer: "x",
    };
    assert!(approval::evaluate(&req, &request, &[stale])
        .unwrap_err()
        .to_string()
        .contains("approves plan qqqqqqqqqqqq, the promotion's plan is pppppppppppp"));
}

fn t(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

#[test]
fn change_windows_in_london_time() {
    let w = ChangeWindows::load(&root()).unwrap();
    // (env, closed periods apply, now, None = open, Some(next open))
    let cases: &[(&str, bool, &str, Option<&str>)] = &[
        // Winter (GMT): closed 08:00-16:30 UTC on weekdays.
        ("prod", true, "2026-11-26T07:59:00Z", None),
        (
            "prod",
            true,
            "2026-11-26T08:00:00Z",
            Some("2026-11-26T16:30:00Z"),
        ),
        (
            "prod",
            true,
            "2026-11-26T16:29:30Z",
            Some("2026-11-26T16:30:00Z"),
        ),
        ("prod", true, "2026-11-26T16:30:00Z", None),
        ("prod", false, "2026-11-26T12:00:00Z", None),
        ("prod", true, "2026-11-28T12:00:00Z", None),
        ("dev", true, "2026-11-26T12:00:00Z", None),
        // Summer (BST): 08:00-16:30 London is 07:00-15:30 UTC.
        (
            "prod",
            true,
            "2026-07-15T07:30:00Z",
            Some("2026-07-15T15:30:00Z"),
        ),
        ("prod", true, "2026-07-15T15:30:00Z", None),
        ("prod", true, "2026-07-15T06:59:00Z", None),
        // The clocks change at 01:00 UTC on the last Sunday of March and October.
        (
            "prod",
            true,
            "2026-03-30T07:30:00Z",
            Some("2026-03-30T15:30:00Z"),
        ),
        ("prod", true, "2026-10-26T07:30:00Z", None),
        // Friday afternoon in summer reopens at 15:30 UTC.
        (
            "prod",
            true,
            "2026-06-26T15:00:00Z",
            Some("2026-06-26T15:30:00Z"),
        ),
        // Freeze: every tier, through the last day.
        (
            "prod",
            false,
            "2026-12-22T03:00:00Z",
            Some("2027-01-04T00:00:00Z"),
        ),
        (
            "preprod",
            false,
            "2027-01-03T23:59:00Z",
            Some("2027-01-04T00:00:00Z"),
        ),
        ("uat", false, "2026-12-22T03:00:00Z", None),
        // Freeze ends at midnight London; prod's market hours then keep it closed until 16:30.
        (
            "prod",
            true,
            "2026-12-30T10:00:00Z",
            Some("2027-01-04T00:00:00Z"),
        ),
        (
            "prod",
            true,
            "2027-01-04T09:00:00Z",
            Some("2027-01-04T16:30:00Z"),
        ),
    ];
    for (env, closed, now, want) in cases {
        let got = w.check(env, *closed, t(now)).err().map(|r| {
            r.next_open
                .map(lz_promote::window::rfc3339)
                .unwrap_or_default()
        });
        assert_eq!(got.as_deref(), *want, "{env} closed={closed} at {now}");
    }
    let msg = w
        .check("prod", true, t("2026-11-26T09:00:00Z"))
        .unwrap_err()
        .message("prod", "high");
    assert_eq!(
        msg,
        "the change window of prod is closed for a high change: market hours, Europe/London 08:00-16:30 Mon/Tue/Wed/Thu/Fri; next open window 2026-11-26T16:30:00Z (Thu 16:30 Europe/London)"
    );
}

#[test]
fn malformed_windows_and_policies_are_errors() {
    let cases: &[(&str, &str)] = &[
        ("timezone = \"Europe/Paris\"\n", "w.toml: timezone \"Europe/Paris\" is not supported (only Europe/London)"),
        ("timezone = \"Europe/London\"\n[[closed]]\nenvironments = [\"prod\"]\ndays = [\"Mon\"]\nfrom = \"17:00\"\nto = \"08:00\"\nreason = \"r\"\n", "w.toml: closed period 17:00-08:00 ends before it starts"),
        ("timezone = \"Europe/London\"\n[[closed]]\nenvironments = [\"prod\"]\ndays = [\"Funday\"]\nfrom = \"07:00\"\nto = \"08:00\"\nreason = \"r\"\n", "w.toml: day \"Funday\" is not one of Mon..Sun"),
        ("timezone = \"Europe/London\"\n[[freeze]]\nenvironments = [\"staging\"]\nfrom = \"2026-12-01\"\nto = \"2026-12-02\"\nreason = \"r\"\n", "w.toml: environment \"staging\" is not one of dev, test, uat, preprod, prod"),
    ];
    for (text, want) in cases {
        assert_eq!(
            ChangeWindows::parse(text, "w.toml")
                .unwrap_err()
                .to_string(),
            *want
        );
    }
    let base = std::fs::read_to_string(root().join("governance/approval-policy.toml")).unwrap();
    let bad = format!("{base}\n[environments.dev.high]\nrequired_groups = [\"legal\"]\n");
    assert_eq!(
        ApprovalPolicy::parse(&bad, "p.toml").unwrap_err().to_string(),
        "p.toml: dev/high: required groups [\"legal\"] are not among the eligible groups [\"platform\", \"security\", \"operations\", \"business\"]"
    );
}
