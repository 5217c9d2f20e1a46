//! The auditor report in a real browser: a release rehearsed from dev to prod against LocalStack
//! (evidence in an S3 evidence store of its own), its report rendered by headless Chromium, the
//! DOM checked for the facts the evidence holds, and a full-page screenshot kept under
//! `target/report/` for review. A tampered copy of the chain renders the red banner.

mod common;

use std::path::{Path, PathBuf};

use lz_evidence::query::{Index, Query, Source, TimeRange};
use lz_promote::clock::Clock;
use lz_promote::ledger::EvidenceAt;
use lz_report::{self as report, Options, Selection};
use lz_operate::sandbox::Sandbox;
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

/// The exceptions register the rehearsed release archives: one entry, approved by bob (signed
/// in the chain), that waives nothing the plans hold (an address no module declares), so the
/// deployments are as without it and the exceptions page has an entry whose signature it checks.
const REGISTER: &str = r#"[[exception]]
id                   = "EXC-0101"
rule_id              = "LZ-S3-003"
scope                = { environment = "dev", address = "module.retired.aws_s3_bucket_versioning.*" }
justification        = "A retired bucket kept for its legal hold"
compensating_control = "Weekly export to the archive account"
owner                = "alice"
approver             = "bob"
ticket               = "CHG-101"
created              = 2026-11-26
expires              = 2027-02-20
"#;

/// The release from dev to prod with two approvals per environment and a clean drift check
/// after each deployment.
fn rehearse(sb: &Sandbox, clock: &Clock) -> String {
    let r = sb.release("report", "alice", clock, |tree| Ok(std::fs::write(tree.join("governance/exceptions.toml"), REGISTER)?)).unwrap();
    assert_eq!(sb.approve_exceptions(&r, clock).unwrap().len(), 1, "bob signs the approval of EXC-0101");
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
fn screenshot(page: &Path, png: &Path, height: u32) -> (u32, u32) {
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

/// Layout facts measured by Chromium on a test copy of the page (the page itself runs no script:
/// the copy adds one that writes them into the DOM).
struct Measured {
    scroll_width: u32,
    summary_bottom: u32,
    height: u32,
}

fn measure(page: &Path, width: u32, height: u32) -> Measured {
    let html = std::fs::read_to_string(page).unwrap();
    let csp = html.find("<meta http-equiv=\"Content-Security-Policy\"").expect("the page has a CSP");
    let end = csp + html[csp..].find('>').unwrap() + 1;
    let script = "<script>var d=document.documentElement,s=document.getElementById('summary').getBoundingClientRect();\
        document.body.setAttribute('data-m',d.scrollWidth+' '+Math.ceil(s.bottom)+' '+d.scrollHeight);</script>";
    let copy = format!("{}{}", &html[..csp], &html[end..]).replace("</body>", &format!("{script}</body>"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("measure.html");
    std::fs::write(&p, copy).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium().headless(profile.path(), &[format!("--window-size={width},{height}"), "--dump-dom".into(), url(&p)]).unwrap();
    let at = out.stdout.find("data-m=\"").expect("the measuring script ran") + 8;
    let v: Vec<u32> = out.stdout[at..at + out.stdout[at..].find('"').unwrap()].split(' ').map(|n| n.parse().unwrap()).collect();
    Measured { scroll_width: v[0], summary_bottom: v[1], height: v[2] }
}

/// Pages of the page printed to PDF by Chromium (A4, the print stylesheet), kept beside it.
fn printed_pages(page: &Path) -> usize {
    let pdf = page.with_extension("pdf");
    let _ = std::fs::remove_file(&pdf);
    let profile = tempfile::tempdir().unwrap();
    chromium().headless(profile.path(), &["--no-pdf-header-footer".into(), format!("--print-to-pdf={}", pdf.display()), url(page)]).unwrap();
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF {}: {e}", pdf.display()));
    assert!(bytes.starts_with(b"%PDF"), "{} is not a PDF", pdf.display());
    let text = String::from_utf8_lossy(&bytes);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

/// What a 1400x900 window shows first.
fn fold_screenshot(page: &Path, png: &Path) -> (u32, u32) {
    let _ = std::fs::remove_file(png);
    let profile = tempfile::tempdir().unwrap();
    chromium().headless(profile.path(), &[format!("--screenshot={}", png.display()), "--window-size=1400,900".into(), url(page)]).unwrap();
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
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
    let fixed = lz_operate::remediate::remediate(
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
    for who in ["alice", "bob", "erin", "carol", "deployer-bot", "change-policy-prod"] {
        assert!(dom.contains(who), "{who} is named");
    }
    assert!(dom.contains("CHG-1") && dom.contains("sandbox release report"), "ticket and reason");
    assert!(dom.contains("href=\"exceptions.html\""), "link to the exceptions export");

    // Each deployment shows its own admission: the approvals its decision point counted.
    for e in &rel.environments {
        let a = e.admissions.iter().find(|a| a.outcome == "succeeded").unwrap_or_else(|| panic!("{}: no admission", e.name));
        assert_eq!((a.tier.as_str(), a.emergency), ("high", false), "{}", e.name);
        let mine: Vec<u64> = e.approvals.iter().filter(|x| x.plan_digest == a.plan_digest).map(|x| x.sequence).collect();
        let counted: Vec<u64> = a.approvals.iter().map(|x| x.0).collect();
        assert_eq!(counted, mine, "{}: the approvals of its own plan", e.name);
        assert!(a.applied_under.contains("change window"), "{}: {}", e.name, a.applied_under);
        assert!(e.refused.is_empty(), "{}: {:?}", e.name, e.refused);
        assert!(dom.contains(&format!("id=\"adm-{}\" data-deployment=\"{}\" data-tier=\"high\"", a.record, a.record)));
    }
    // The one-screen summary: release, who asked, numbers, tier per environment, approvals,
    // exceptions used, verdict.
    assert!(dom.contains("id=\"summary\"") && dom.contains("data-verdict=\"verified\""));
    let summary = &dom[dom.find("id=\"summary\"").unwrap()..dom.find("id=\"verification\"").unwrap()];
    for env in lz_platform::ENVIRONMENTS {
        assert!(summary.contains(&format!("data-env=\"{env}\"")), "{env} in the summary");
    }
    assert_eq!(summary.matches("data-summary-tier=\"high\"").count(), 5);
    assert_eq!(summary.matches("complete: 2 approval(s)").count(), 5);
    assert!(summary.contains("alice") && summary.contains("CHG-1") && summary.contains(" added, "));
    assert!(!summary.contains("EMERGENCY"), "nothing was deployed under break-glass");
    // Per-environment detail collapses; the timeline has a time axis and fits the page.
    assert_eq!(dom.matches("<details class=\"environment\"").count(), 5);
    assert!(dom.contains("<svg class=\"timeline\"") && dom.contains("width=\"100%\"") && dom.contains("class=\"tick\""));
    assert!(html.contains("@media print") && html.contains("table.records, .records-title { display: none; }"), "print stylesheet");

    let m = measure(&page, 1400, 900);
    assert!(m.height < 9000, "the page is {} px tall with the environments collapsed", m.height);
    // The whole page as laid out (the environments collapsed).
    let (w, h) = screenshot(&page, &review_dir().join("release.png"), m.height);
    assert_eq!((w, h), (1400, m.height));
    assert!(m.scroll_width <= 1400, "no horizontal overflow at 1400 px: the page is {} px wide", m.scroll_width);
    assert!(m.summary_bottom <= 900, "the summary ends at {} px: above the fold of a 900 px window", m.summary_bottom);
    let (fw, fh) = fold_screenshot(&page, &review_dir().join("release-fold.png"));
    assert_eq!((fw, fh), (1400, 900));
    let pages = printed_pages(&page);
    assert!((1..=6).contains(&pages), "a release prints on a few pages: {pages}");

    // The exceptions page: the register archived in the release, each entry with its signed
    // approval verified from the chain.
    let today = time::macros::date!(2026 - 11 - 28);
    let x = report::exceptions::for_release(&sb.paths, &release, today, 30).unwrap();
    let archived = sb.paths.open_release(&release).unwrap();
    let reg = lz_policy::Register::parse(&archived.text("governance/exceptions.toml").unwrap(), "archive").unwrap();
    assert_eq!((x.exceptions.len(), reg.exceptions.len()), (1, 1), "the archived register holds EXC-0101");
    assert!(x.register.contains(&release[..12]), "{}", x.register);
    // Each entry carries its approval, verified from the chain (bob's signed record).
    for row in &x.exceptions {
        assert_eq!(row.id, "EXC-0101");
        assert!(row.approval_signer.starts_with("bob"), "{}", row.approval_signer);
        assert_eq!(row.signature_status, "verified", "{}: {}", row.id, row.signature);
        let seq = row.approval_record.unwrap();
        assert!(chain.records.iter().any(|r| r.sequence == seq && r.kind == Kind::ExceptionApproval));
        assert!(!row.justification.is_empty() && !row.compensating_control.is_empty());
    }
    let xhtml = report::exceptions::to_html(&x).unwrap();
    let xpage = review_dir().join("release.exceptions.html");
    std::fs::write(&xpage, &xhtml).unwrap();
    let xdom = dump_dom(&xpage);
    assert_eq!(xdom.matches("data-signature=\"verified\"").count(), x.exceptions.len());
    let csv = report::exceptions::to_csv(&x);
    assert!(csv.starts_with("id,status,why,rule_id,environment,address,owner,approver,ticket,justification,compensating_control,approval_record,approval_signer,signature,"));
    for row in &x.exceptions {
        assert!(xdom.contains(&row.justification));
        assert!(csv.contains(&row.signature), "{csv}");
    }

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
    let (w, _) = screenshot(&page, &review_dir().join("tampered.png"), 900);
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
    let auto = ledger.append(Kind::Approval, auto, sb.signer("change-policy-dev")).unwrap();
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

/// A second release in dev: one attempt refused (one approval where the high tier needs two),
/// then deployed under break-glass. Its report marks the deployment EMERGENCY with no approval
/// counted (not the refused attempt's), and lists the attempt as refused with the reason.
#[test]
fn a_break_glass_deployment_and_a_refused_attempt_are_shown_as_such() {
    let (_d, sb) = sandbox();
    let clock = saturday();
    let first = sb.release("first", "alice", &clock, |_| Ok(())).unwrap();
    sb.approve_exceptions(&first, &clock).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &first, &clock).unwrap();
    }
    sb.bootstrap("dev", &first).unwrap();
    sb.approve("bob", &first, "dev", &clock).unwrap();
    sb.approve("erin", &first, "dev", &clock).unwrap();
    sb.promote(&first, "dev", "deployer-bot", &clock, 0).unwrap();
    let t = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
    let later = Clock::Fixed(t("2026-11-28T15:00:00Z"));
    let second = sb
        .release("second", "alice", &later, |tree| {
            let f = tree.join("environments/dev/terraform.tfvars");
            let text = std::fs::read_to_string(&f)?;
            std::fs::write(&f, text.replacen("vpc_cidr = \"10.10.0.0/16\"", "vpc_cidr = \"10.12.0.0/16\"", 1))?;
            Ok(())
        })
        .unwrap();
    sb.approve_exceptions(&second, &later).unwrap();
    sb.approve("bob", &second, "dev", &later).unwrap();
    let refusal = sb.promote(&second, "dev", "deployer-bot", &later, 0).expect_err("one approval is not enough");
    let ledger = sb.ledger().unwrap();
    let bg = breakglass::open(&ledger, sb.signer("oscar"), "dev", "111111111111", Some(&second), "INC-9", "order feed down", 60, t("2026-11-28T15:01:00Z")).unwrap();
    breakglass::approve(&ledger, sb.signer("carol"), bg.sequence, "outage confirmed", t("2026-11-28T15:02:00Z")).unwrap();
    let o = sb.promote(&second, "dev", "deployer-bot", &Clock::Fixed(t("2026-11-28T15:05:00Z")), 0).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(o.admission.tier, Tier::Emergency);

    let r = report::build(&sb.paths, &Selection::Release(second.clone()), &Options::default()).unwrap();
    assert!(r.verified() && r.verification.rejected.is_empty(), "{:?}", r.verification);
    let dev = r.releases[0].environments.iter().find(|e| e.name == "dev").unwrap();
    assert_eq!(dev.admissions.len(), 1, "{:?}", dev.admissions);
    let a = &dev.admissions[0];
    assert_eq!((a.tier.as_str(), a.emergency, a.break_glass), ("emergency", true, Some(bg.sequence)));
    assert!(a.approvals.is_empty(), "bob's approval belongs to the refused attempt: {:?}", a.approvals);
    assert!(dev.approvals.iter().any(|x| x.identity == "bob"), "the approval is still listed among the records");
    assert!(a.applied_under.starts_with("BREAK-GLASS") && a.applied_under.contains("oscar") && a.applied_under.contains("carol"), "{}", a.applied_under);
    assert_eq!(dev.refused.len(), 1, "{:?}", dev.refused);
    let why = &dev.refused[0].reason;
    assert!(why.contains("approv"), "the refusal replayed names the missing approval: {why} (promote said: {refusal:#})");
    let row = &r.releases[0].summary.rows[0];
    assert_eq!((row.environment.as_str(), row.tier.as_str(), row.emergency, row.refused), ("dev", "emergency", true, 1));

    let html = report::render(&r).unwrap();
    let page = review_dir().join("break-glass.html");
    std::fs::write(&page, &html).unwrap();
    let dom = dump_dom(&page);
    let summary = &dom[dom.find("id=\"summary\"").unwrap()..dom.find("id=\"verification\"").unwrap()];
    assert!(summary.contains("EMERGENCY / BREAK-GLASS") && summary.contains("emergency (break-glass)"), "marked in the summary");
    assert!(summary.contains("BREAK-GLASS (record") && summary.contains("1 refused"));
    assert!(!summary.contains("data-summary-tier=\"high\""), "never shown as another attempt's tier");
    assert!(dom.contains(&format!("data-deployment=\"{}\" data-tier=\"emergency\" class=\"emergency\"", a.record)));
    assert!(dom.contains(&format!("data-refused=\"{}\"", dev.refused[0].policy_record)) && dom.contains("REFUSED"));
    let m = measure(&page, 1400, 900);
    assert!(m.scroll_width <= 1400 && m.summary_bottom <= 900, "overflow {} summary bottom {}", m.scroll_width, m.summary_bottom);
    fold_screenshot(&page, &review_dir().join("break-glass-fold.png"));
    let pages = printed_pages(&page);
    assert!((1..=3).contains(&pages), "printed: {pages} pages");
}
