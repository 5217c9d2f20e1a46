//! The auditor report in a real browser: a release rehearsed from dev to prod against LocalStack
//! (evidence in an S3 evidence store of its own), its report rendered by headless Chromium, the
//! DOM checked for the facts the evidence holds, and a full-page screenshot kept under
//! `target/report/` for review. A tampered copy of the chain renders the red banner.

mod common;

use std::path::{Path, PathBuf};

use lz_evidence::query::{Index, Query, Source, TimeRange};
use lz_promote::clock::Clock;
use lz_promote::ledger::EvidenceAt;
use lz_promote::report::{self, Options, Selection};
use lz_promote::sandbox::Sandbox;
use lz_evidence::details::{ApprovalDetails, DeploymentDetails, Details, RotationDetails};
use lz_evidence::record::{Fields, Kind};
use lz_promote::{breakglass, Tier};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::{endpoint, own_stores, root};

/// Where screenshots and pages are kept for review.
fn review_dir() -> PathBuf {
    let d = root().join("target/report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn saturday() -> Clock {
    Clock::Fixed(OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap())
}

/// A sandbox whose evidence lives in an S3 evidence store of its own (created as
/// `bootstrap --stores` does).
fn sandbox() -> (tempfile::TempDir, Sandbox) {
    let s = own_stores();
    let dir = tempfile::Builder::new().prefix("lz-report-").tempdir().unwrap();
    let mut sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    sb.paths.evidence = EvidenceAt::S3(s);
    sb.start_chain().unwrap();
    (dir, sb)
}

/// The release from dev to prod with two approvals per environment and a clean drift check
/// after each deployment.
fn rehearse(sb: &Sandbox, clock: &Clock) -> String {
    let r = sb.release("report", "alice", clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&r, clock).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, clock).unwrap();
    }
    for env in lz_platform::ENVIRONMENTS {
        sb.bootstrap(env, &r).unwrap();
        let second = if env == "prod" { "carol" } else { "erin" };
        sb.approve("bob", &r, env, clock).unwrap();
        sb.approve(second, &r, env, clock).unwrap();
        let o = sb.promote(&r, env, "deployer-bot", clock, 0).unwrap_or_else(|e| panic!("{env}: {e:#}"));
        assert_eq!(o.admission.tier, Tier::High);
        assert!(!sb.drift(env, clock).unwrap().drifted());
    }
    r
}

fn chromium() -> lz_platform::tools::Chromium {
    lz_platform::tools::chromium().unwrap_or_else(|e| panic!("{e:#}"))
}

fn url(page: &Path) -> String {
    format!("file://{}", page.display())
}

/// The DOM after Chromium loaded and laid out the page.
fn dump_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = chromium().headless(profile.path(), &["--dump-dom".into(), url(page)]).unwrap();
    out.stdout
}

/// A screenshot tall enough for the whole page (headless Chromium shoots the window); returns
/// the PNG's width and height.
fn screenshot(page: &Path, png: &Path, html: &str) -> (u32, u32) {
    let rows = ["<tr", "<p", "<h2", "<h3", "<h4", "<li"].iter().map(|t| html.matches(t).count()).sum::<usize>();
    let height = 400 + 34 * rows as u32;
    let _ = std::fs::remove_file(png);
    let profile = tempfile::tempdir().unwrap();
    chromium()
        .headless(
            profile.path(),
            &[format!("--screenshot={}", png.display()), format!("--window-size=1400,{height}"), url(page)],
        )
        .unwrap();
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", png.display());
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Text of the element with `id` in the dumped DOM.
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let open = start + dom[start..].find('>').unwrap() + 1;
    let close = open + dom[open..].find('<').unwrap();
    &dom[open..close]
}

#[test]
fn the_report_of_a_rehearsed_release_shows_its_whole_chain_of_custody_in_a_browser() {
    let (_d, sb) = sandbox();
    let clock = saturday();
    let release = rehearse(&sb, &clock);
    // After the train: a break-glass session in prod with its approval and retrospective, and a
    // removed tag on prod's state bucket restored by remediation.
    let ledger = sb.ledger().unwrap();
    let t = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
    let bg = breakglass::open(&ledger, sb.signer("oscar"), "prod", "555555555555", Some(&release), "INC-7", "feed outage", 60, t("2026-11-28T13:00:00Z")).unwrap();
    breakglass::approve(&ledger, sb.signer("bob"), bg.sequence, "outage confirmed", t("2026-11-28T13:01:00Z")).unwrap();
    breakglass::retrospective(&ledger, sb.signer("audrey"), bg.sequence, "INC-7", "no change made, access revoked", t("2026-11-28T14:00:00Z")).unwrap();
    let state = sb.names("prod").state_bucket.unwrap();
    drop_tag(&sb, &state, "CostCentre");
    let fixed = lz_promote::remediate::remediate(
        &sb.paths,
        &sb.target("prod").unwrap(),
        &sb.names("prod"),
        sb.signer("deployer-bot"),
        &Clock::Fixed(t("2026-11-28T14:30:00Z")).now().unwrap(),
    )
    .unwrap();
    assert_eq!(fixed.outcome, "remediated", "{fixed:#?}");
    // A secret rotation in prod and its verification while the release is deployed there, and
    // one in dev (not prod) that the prod section must not show.
    let rotation = |env: &str, kind: Kind, at: &str| {
        let account = if env == "prod" { "555555555555" } else { "111111111111" };
        let f = Fields::new(&release)
            .environment(env)
            .account(account)
            .ticket("SEC-77")
            .at(t(at));
        let d = RotationDetails {
            resource: format!("lz-{env}/orders/db-credentials"),
            version: "v2".into(),
            outcome: if kind == Kind::Rotation { "rotated" } else { "passed" }.into(),
            consumers: vec!["orders-task".into()],
            ..Default::default()
        };
        let f = f.details(if kind == Kind::Rotation { Details::Rotation(d) } else { Details::RotationVerification(d) });
        ledger.append(kind, f, sb.signer("deployer-bot")).unwrap().sequence
    };
    let rotated = [rotation("prod", Kind::Rotation, "2026-11-28T15:00:00Z"), rotation("prod", Kind::RotationVerification, "2026-11-28T15:00:01Z")];
    let elsewhere = rotation("dev", Kind::Rotation, "2026-11-28T15:01:00Z");

    let r = report::build(&sb.paths, &Selection::Release(release[..16].to_string()), &Options {
        exceptions_link: Some("exceptions.html".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(r.verified(), "{:?}", r.verification);
    let html = report::render(&r).unwrap();
    for forbidden in ["<script", "http://", "https://", "@import", "url("] {
        let hits: Vec<&str> = html.matches(forbidden).collect();
        // The only URL allowed is the SVG namespace, which is a name, not a fetch.
        let allowed = if forbidden == "http://" { html.matches("http://www.w3.org/2000/svg").count() } else { 0 };
        assert_eq!(hits.len(), allowed, "the page must be self-contained: found {forbidden:?}");
    }

    // Every record of the release's chain of custody, as the auditor query answers it.
    let store = sb.paths.evidence.open().unwrap();
    let records = store.load().unwrap();
    let chain = lz_evidence::verify_store(&*store, &sb.paths.trust, &[]).unwrap();
    let index = Index::from_verified(&chain);
    let q = Query { index: &index, source: Source::Memory(&records), range: TimeRange::default() };
    let custody = q.release(&release).unwrap();
    let mut expected: Vec<u64> = custody.environments.iter().flat_map(|(_, c)| c.all().map(|r| r.sequence)).collect();
    // ... and the rotations of its environments while it is deployed there (dev's too: the
    // release is deployed in dev as well).
    expected.extend(rotated);
    expected.push(elsewhere);
    expected.sort();
    expected.dedup();
    let rel = &r.releases[0];
    let shown: Vec<u64> = rel.records.iter().map(|r| r.sequence).collect();
    assert_eq!(shown, expected, "the report shows exactly the release's chain of custody and the rotations while deployed");
    let prod_rotations: Vec<u64> = rel.environments.iter().find(|e| e.name == "prod").unwrap().rotations.iter().map(|r| r.sequence).collect();
    assert_eq!(prod_rotations, rotated, "prod shows its rotation and verification, not dev's");

    let page = review_dir().join("release.html");
    std::fs::write(&page, &html).unwrap();
    let dom = dump_dom(&page);
    assert!(dom.contains("data-verified=\"true\""), "banner");
    assert_eq!(text_of(&dom, "record-count"), chain.records.len().to_string(), "chain length in the banner");
    assert!(dom.contains(&format!("<span class=\"custody-count\">{}</span>", expected.len())));
    for seq in &expected {
        assert!(dom.contains(&format!("id=\"rec-{seq}\"")), "record {seq} has an anchor");
    }
    // Digests: short on screen, full in the title (hover) and in the print-only span.
    assert!(dom.contains(&format!("title=\"{release}\"")));
    assert!(dom.contains(&format!("<span class=\"short\">{}</span>", &release[..12])));
    for env in lz_platform::ENVIRONMENTS {
        let e = rel.environments.iter().find(|e| e.name == env).unwrap_or_else(|| panic!("no {env} section"));
        let c = e.change.as_ref().unwrap_or_else(|| panic!("{env}: {:?}", e.change_error));
        assert_eq!(c.tier, "high", "{env}");
        assert!(!c.changes.is_empty(), "{env}: the first deployment creates resources");
        assert_eq!(c.added, c.changes.len(), "{env}: nothing was deployed before, every change is a create");
        assert_eq!(e.approvals.len(), 2, "{env}");
        assert!(e.missing_approvals.is_empty(), "{env}: an honest deployment is not flagged: {:?}", e.missing_approvals);
        assert!(e.deployments.iter().any(|d| d.details.iter().any(|(k, v)| k == "outcome" && v == "succeeded")));
        assert!(e.deployments.iter().any(|d| d.details.iter().any(|(k, v)| k == "state_serial" && v.parse::<u64>().is_ok())), "{env}: state serial");
        assert_eq!(e.policy_evaluations.len(), 1, "{env}");
        assert!(dom.contains(&format!("id=\"env-{env}-{}\"", &release[..12])), "{env} section");
        let plan = e.deployments[0].plan_digest.as_ref().unwrap();
        assert!(dom.contains(&format!("title=\"{plan}\"")), "{env} plan digest");
        let first = &c.changes[0];
        assert!(dom.contains(&format!("<code>{}</code>", first.address)), "{env}: {}", first.address);
        assert!(dom.contains(&format!("<code>{}</code>", first.rule)), "{env}: rule {}", first.rule);
    }
    assert!(dom.contains("data-tier=\"high\""));
    let prod = rel.environments.iter().find(|e| e.name == "prod").unwrap();
    assert_eq!(prod.break_glass.len(), 1);
    assert_eq!((prod.break_glass[0].approvals.len(), prod.break_glass[0].retrospectives.len()), (1, 1));
    assert!(dom.contains("retrospective by audrey") && dom.contains("no change made, access revoked"));
    assert!(dom.contains("approved by bob"));
    assert!(dom.contains("Secret rotations while the release was deployed"));
    assert!(dom.contains("resource=lz-prod/orders/db-credentials") && dom.contains("SEC-77"), "the prod rotation is shown");
    let remediation = prod.drift_checks.iter().find(|d| d.kind == "drift-remediation").expect("remediation shown");
    assert_eq!(Some(remediation.sequence), fixed.record);
    assert!(dom.contains(&format!("restored: s3://{state} tags.CostCentre")), "remediation items");
    assert!(dom.contains(&format!("drift: s3://{state} tags.CostCentre")), "the drift it restored");
    for who in ["alice", "bob", "erin", "carol", "deployer-bot", "change-policy"] {
        assert!(dom.contains(who), "{who} is named");
    }
    assert!(dom.contains("CHG-1") && dom.contains("sandbox release report"), "ticket and reason");
    assert!(dom.contains("href=\"exceptions.html\""), "link to the exceptions export");

    let (w, h) = screenshot(&page, &review_dir().join("release.png"), &html);
    assert_eq!(w, 1400);
    assert!(h > 2000, "full page: {h} px");

    // A period of one environment: the release, with prod's records only.
    let period = Selection::Period {
        environment: "prod".into(),
        range: TimeRange { since: Some(t("2026-11-28T00:00:00Z")), until: None },
    };
    let p = report::build(&sb.paths, &period, &Options::default()).unwrap();
    assert_eq!(p.releases.len(), 1);
    let names: Vec<&str> = p.releases[0].environments.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["prod"]);
    assert!(p.releases[0].records.iter().all(|r| r.environment.as_deref().is_none_or(|e| e == "prod")));
    let empty = Selection::Period { environment: "prod".into(), range: TimeRange { since: Some(t("2026-12-01T00:00:00Z")), until: None } };
    assert!(report::build(&sb.paths, &empty, &Options::default()).unwrap().releases.is_empty());
}

/// Drops tag `key` from `bucket` in prod's account.
fn drop_tag(sb: &Sandbox, bucket: &str, key: &str) {
    use aws_sdk_s3::types::{Tag, Tagging};
    let t = sb.target("prod").unwrap();
    let c = lz_platform::aws::s3_client(&t.endpoint, &t.account_id, &t.region);
    lz_platform::aws::runtime().unwrap().block_on(async {
        let tags = c.get_bucket_tagging().bucket(bucket).send().await.unwrap();
        let kept: Vec<Tag> = tags.tag_set().iter().filter(|t| t.key() != key).cloned().collect();
        c.put_bucket_tagging().bucket(bucket).tagging(Tagging::builder().set_tag_set(Some(kept)).build().unwrap()).send().await.unwrap();
    });
}

/// The chain copied to a local store with one record's payload altered: the report shows the
/// failure in red, names the record and shows nothing of the chain.
#[test]
fn a_tampered_chain_renders_the_red_banner_and_nothing_else() {
    let dir = tempfile::Builder::new().prefix("lz-report-tampered-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    let clock = saturday();
    let release = sb.release("tampered", "alice", &clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&release, &clock).unwrap();
    sb.pin("dev", &release, &clock).unwrap();
    sb.approve("bob", &release, "dev", &clock).unwrap();

    let ok = report::build(&sb.paths, &Selection::Release(release.clone()), &Options::default()).unwrap();
    assert!(ok.verified());
    let approval = ok.releases[0].environments[0].approvals[0].sequence;

    // Re-encode the approval's payload with another reason: canonical, but no longer signed.
    let file = sb.evidence_file();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = &mut lines[approval as usize];
    let mut env: serde_json::Value = serde_json::from_str(line).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(env["payload"].as_str().unwrap()).unwrap();
    let altered = String::from_utf8(payload).unwrap().replace("reviewed the plan", "rubber-stamped");
    env["payload"] = b64.encode(altered).into();
    *line = serde_json::to_string(&env).unwrap();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let r = report::build(&sb.paths, &Selection::Release(release.clone()), &Options::default()).unwrap();
    assert!(!r.verified());
    // A record whose signature fails is named by its place (its sequence is not trusted).
    let place = format!("{}:{}", file.display(), approval + 1);
    assert_eq!(r.verification.failure_location.as_deref(), Some(place.as_str()), "{:?}", r.verification);
    assert_eq!(r.verification.failure_code.as_deref(), Some("signature"));
    assert!(r.releases.is_empty(), "nothing from an unverified chain is shown");
    let html = report::render(&r).unwrap();
    let page = review_dir().join("tampered.html");
    std::fs::write(&page, &html).unwrap();
    let dom = dump_dom(&page);
    assert!(dom.contains("data-verified=\"false\""));
    assert!(dom.contains("EVIDENCE FAILED VERIFICATION"));
    assert!(dom.contains(&place), "the failing record is named");
    assert!(dom.contains("signature does not verify"), "and why");
    assert!(!dom.contains("rubber-stamped"), "the altered text is not shown");
    assert!(!dom.contains("id=\"rec-"), "no record of the chain is shown");
    let (w, _) = screenshot(&page, &review_dir().join("tampered.png"), &html);
    assert_eq!(w, 1400);
}

/// A deployment record one deployer key wrote, with an in-progress record claiming the
/// standard tier and only the policy identity's automatic approval: the report flags it as a
/// deployment without a valid admission, naming the rule its replay breaks, and, in the
/// environment's section, as a deployment of a high-tier change without its human approvals.
#[test]
fn a_deployment_without_a_valid_admission_is_flagged() {
    let dir = tempfile::Builder::new().prefix("lz-report-forged-").tempdir().unwrap();
    let sb = Sandbox::new(&root(), &endpoint(), dir.path()).unwrap();
    let clock = saturday();
    let release = sb.release("forged", "alice", &clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&release, &clock).unwrap();
    sb.pin("dev", &release, &clock).unwrap();
    let plan = sb.session(&release, "dev").unwrap().plan_digest;
    let ledger = sb.ledger().unwrap();
    let at = OffsetDateTime::parse("2026-11-28T12:00:00Z", &Rfc3339).unwrap();
    let fields = |d: DeploymentDetails| {
        Fields::new(&release).environment("dev").account("111111111111").plan_digest(&plan).at(at).details(DeploymentDetails { run: Some("forged".into()), ..d })
    };
    let auto = ApprovalDetails { decision: Some("approved".into()), tier: Some("standard".into()), auto: Some(true), ..Default::default() };
    let auto = Fields::new(&release).environment("dev").plan_digest(&plan).at(at).details(auto);
    let auto = ledger.append(Kind::Approval, auto, sb.signer("change-policy")).unwrap();
    let ip = DeploymentDetails { outcome: "in-progress".into(), tier: Some("standard".into()), ..Default::default() };
    let ip = ledger.append(Kind::Deployment, fields(ip), sb.signer("deployer-bot")).unwrap();
    let done = DeploymentDetails { outcome: "succeeded".into(), in_progress_record: Some(ip.sequence), ..Default::default() };
    let d = ledger.append(Kind::Deployment, fields(done), sb.signer("deployer-bot")).unwrap();
    let r = report::build(&sb.paths, &Selection::Release(release.clone()), &Options::default()).unwrap();
    assert!(r.verified(), "the chain itself verifies");
    assert_eq!(r.verification.rejected.len(), 1, "{:?}", r.verification.rejected);
    let (seq, why) = &r.verification.rejected[0];
    assert_eq!(*seq, d.sequence);
    assert!(why.contains("has no valid admission") && why.contains("needs"), "{why}");
    let html = report::render(&r).unwrap();
    assert!(html.contains("DEPLOYMENTS WITHOUT A VALID ADMISSION"), "the page flags it");
    assert!(html.contains(&format!("Record {}", d.sequence)));
    // The environment's section: tier high, one automatic approval, and the warning beside it.
    let dev = r.releases[0].environments.iter().find(|e| e.name == "dev").expect("a dev section");
    assert_eq!(dev.change.as_ref().map(|c| c.tier.as_str()), Some("high"));
    assert_eq!(dev.approvals.iter().map(|a| a.sequence).collect::<Vec<_>>(), vec![auto.sequence]);
    assert_eq!(dev.missing_approvals.iter().map(|m| (m.sequence, m.tier.as_str())).collect::<Vec<_>>(), vec![(d.sequence, "high")]);
    assert!(dev.missing_approvals[0].why.contains("needs"), "{:?}", dev.missing_approvals);
    let section = html.split(&format!("id=\"env-dev-{}\"", &release[..12])).nth(1).expect("the dev section in the page");
    let flag = section.split("data-flag=\"missing-approvals\"").nth(1).expect("the missing-approvals flag in the dev section");
    assert!(flag.contains("MISSING HUMAN APPROVALS") && flag.contains(&format!("rec-{}", d.sequence)), "{flag}");
}
