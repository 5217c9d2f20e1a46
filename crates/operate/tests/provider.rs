//! The terratest-style harness with a real provider: hashicorp/aws 3.39.0 (the pinned PyPI
//! bootstrap, `lz_platform::provider`) applies `tests/provider/fixture` to LocalStack through
//! the harness's own working copy ([`Workspace::init_with`]) and [`TfDir`]: init, apply,
//! `assert_idempotent`, an out-of-band change found by drift's `terraform plan`, destroy.
//!
//! Fails loudly (never skips) when LocalStack or the provider cannot be bootstrapped.

mod common;

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Tag, Tagging};
use lz_operate::deploy::{Backend, RunAs, Workspace};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "eu-west-2";
const REPLICA_REGION: &str = "eu-central-1";

fn s3(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    lz_platform::aws::s3(endpoint, lz_platform::aws::account_credentials(ACCOUNT), region)
}

#[test]
fn a_real_provider_applies_idempotently_covers_its_alias_shows_drift_and_destroys() {
    let root = common::root();
    let endpoint = common::endpoint();
    let provider = lz_platform::provider::aws_3_39(&root).unwrap_or_else(|e| panic!("hashicorp/aws cannot be bootstrapped: {e:#}"));
    assert_eq!((provider.version.as_str(), provider.zip_sha256.as_str()), ("3.39.0", lz_platform::provider::ZIP_SHA256));

    let name = format!("lz-prov-{}", common::nonce());
    let rt = lz_platform::aws::runtime().unwrap();
    let home = s3(&endpoint, REGION);
    let replica = s3(&endpoint, REPLICA_REGION);
    let state_bucket = format!("{name}-state");
    rt.block_on(
        home.create_bucket()
            .bucket(&state_bucket)
            .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(REGION)).build())
            .send(),
    )
    .unwrap();

    let work = tempfile::Builder::new().prefix("lz-provider-e2e-").tempdir().unwrap();
    let backend = Backend { bucket: state_bucket.clone(), key: "fixture.tfstate".into(), region: REGION.into() };
    let run_as = RunAs { access_key_id: ACCOUNT.into(), secret_access_key: lz_platform::aws::TEST_SECRET.into(), session_token: None };
    let ws = Workspace::init_with(&root, &root.join("tests/provider/fixture"), work.path(), &endpoint, &backend, run_as, Some(&provider))
        .unwrap_or_else(|e| panic!("{e:#}"));

    // The override configures the default provider and the alias, each with every service.
    let text = std::fs::read_to_string(work.path().join(lz_platform::localstack_override::FILE_NAME)).unwrap();
    let by = lz_platform::localstack_override::endpoints_by_provider(&text).unwrap();
    let want: std::collections::BTreeSet<String> = ["ec2", "kms", "s3", "sts"].map(String::from).into();
    assert_eq!(by.get(&None), Some(&want), "{text}");
    assert_eq!(by.get(&Some("replica".into())), Some(&want), "{text}");
    assert!(text.contains("s3_force_path_style"), "3.x dialect: {text}");
    // Terraform installed the mirror's provider, the one pinned.
    let lock = std::fs::read_to_string(work.path().join(".terraform.lock.hcl")).unwrap();
    assert!(lock.contains("version     = \"3.39.0\""), "{lock}");

    let tf = ws.terraform();
    let vars = |explicit: bool| vec![format!("-var=name={name}"), format!("-var=region={REGION}"), format!("-var=explicit_encryption={explicit}")];
    let apply = |explicit: bool| {
        let out = tf.apply(&[vars(explicit), vec!["-auto-approve".into()]].concat()).unwrap();
        assert!(out.success(), "apply failed:\n{}", out.text());
    };

    // S3 encrypts every bucket by default: a bucket that declares no encryption is not
    // idempotent under 3.39, and the idempotency check names both buckets.
    apply(false);
    let e = format!("{:#}", tf.assert_idempotent(&vars(false)).unwrap_err());
    assert!(e.contains("aws_s3_bucket.data (update)") && e.contains("aws_s3_bucket.replica (update)"), "{e}");
    assert!(!e.contains("aws_kms_key") && !e.contains("aws_vpc") && !e.contains("aws_security_group"), "{e}");

    // Declared explicitly, the same stack is idempotent.
    apply(true);
    tf.assert_idempotent(&vars(true)).unwrap_or_else(|e| panic!("{e:#}"));

    // Both buckets live in LocalStack, each in its provider's region: the aliased provider's
    // calls went to LocalStack too (this machine reaches no other AWS).
    let (data, copy) = (format!("{name}-data"), format!("{name}-replica"));
    let loc = |c: &aws_sdk_s3::Client, b: &str| {
        rt.block_on(c.get_bucket_location().bucket(b).send()).unwrap().location_constraint().map(|l| l.as_str().to_string())
    };
    assert_eq!(loc(&home, &data).as_deref(), Some(REGION));
    assert_eq!(loc(&replica, &copy).as_deref(), Some(REPLICA_REGION));
    let enc = rt.block_on(home.get_bucket_encryption().bucket(&data).send()).unwrap();
    let d = enc.server_side_encryption_configuration().unwrap().rules()[0].apply_server_side_encryption_by_default().unwrap().clone();
    assert_eq!(d.sse_algorithm().as_str(), "aws:kms");
    assert!(d.kms_master_key_id().is_some_and(|k| k.starts_with("arn:aws:kms:eu-west-2:")), "{d:?}");

    // Drift: an out-of-band change made with the SDK, found by drift's real `terraform plan`.
    let tagging = Tagging::builder()
        .tag_set(Tag::builder().key("Name").value(format!("{data}")).build().unwrap())
        .tag_set(Tag::builder().key("changed-by").value("console").build().unwrap())
        .build()
        .unwrap();
    rt.block_on(home.put_bucket_tagging().bucket(&data).tagging(tagging).send()).unwrap();
    let args = [vec!["plan".to_string(), "-input=false".into(), "-no-color".into(), "-detailed-exitcode".into(), "-out=drift.tfplan".into()], vars(true)].concat();
    let (changed, shown) = lz_operate::drift::terraform_drift(tf, &args, "fixture").unwrap();
    assert!(changed, "the out-of-band tag is drift");
    assert_eq!(shown.changing(), ["aws_s3_bucket.data (update)"]);

    tf.destroy(&vars(true)).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(rt.block_on(home.head_bucket().bucket(&data).send()).is_err(), "destroyed");
    assert!(rt.block_on(replica.head_bucket().bucket(&copy).send()).is_err(), "destroyed");
}

/// `promote` with the terraform engine: the gated promotion applies a root of the release
/// (here the fixture, released inside the tree as `stacks/provider-fixture`, since 3.39 cannot
/// run the landing zone's 6.x modules) with the real provider, into the environment's own
/// state key; every record of the run names the engine, the chain verifies, and a record that
/// closes the run under another engine is refused.
#[test]
fn promote_with_the_terraform_engine_applies_the_release_root_and_records_the_engine() {
    use lz_evidence::details::Engine;
    let root = common::root();
    let provider = lz_platform::provider::aws_3_39(&root).unwrap_or_else(|e| panic!("hashicorp/aws cannot be bootstrapped: {e:#}"));
    let (_dir, sb) = common::sandbox("engine");
    let clock = common::open_time();
    let name = format!("lz-eng-{}", common::nonce());
    let r = sb
        .release("engine", "alice", &clock, |tree| {
            let to = tree.join("stacks/provider-fixture");
            lz_operate::engine::copy_tree(&root.join("tests/provider/fixture"), &to)?;
            std::fs::write(to.join("terraform.tfvars"), format!("name = \"{name}\"\n"))?;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e:#}"));
    sb.approve_exceptions(&r, &clock).unwrap();
    for env in lz_platform::ENVIRONMENTS {
        sb.pin(env, &r, &clock).unwrap();
    }
    sb.bootstrap("dev", &r).unwrap_or_else(|e| panic!("{e:#}"));
    sb.approve("bob", &r, "dev", &clock).unwrap();
    sb.approve("erin", &r, "dev", &clock).unwrap();

    let t = sb.target("dev").unwrap();
    let mut session = sb.session(&r, "dev").unwrap();
    let opts = lz_operate::promote::Options {
        target: &t,
        deployer: sb.signer("deployer-bot"),
        policy_signer: sb.signer("change-policy-dev"),
        bake_seconds: 0,
        recover: false,
        previous: None,
    };
    let engine = lz_operate::engine::Engine::terraform_at("stacks/provider-fixture", provider.clone());
    let o = lz_operate::promote::promote_with(&mut session, &opts, &clock, &engine).unwrap_or_else(|e| panic!("{e:#}"));

    let records = sb.ledger().unwrap().records().unwrap();
    let of = |seq: u64| records.iter().find(|x| x.sequence == seq).unwrap().deployment().cloned().unwrap();
    let (start, done) = (of(o.in_progress_record), of(o.completion_record));
    assert_eq!((start.engine, done.engine), (Some(Engine::Terraform), Some(Engine::Terraform)));
    assert_eq!(done.outcome, "succeeded");
    let resources = done.resources.unwrap();
    for want in ["aws_kms_key.data", "aws_s3_bucket.data", "aws_s3_bucket.replica", "aws_security_group.https", "aws_vpc.this"] {
        assert!(resources.iter().any(|r| *r == format!("{want} (create)")), "{want} in {resources:?}");
    }
    // Applied in the environment's account, state under the landing zone's key, not the canary's.
    let rt = lz_platform::aws::runtime().unwrap();
    let s3 = lz_platform::aws::s3(&t.endpoint, lz_platform::aws::account_credentials(&t.account_id), &t.region);
    rt.block_on(s3.head_bucket().bucket(format!("{name}-data")).send()).unwrap();
    rt.block_on(s3.head_object().bucket(&t.state_bucket).key("dev/landing-zone.tfstate").send()).unwrap();
    assert!(rt.block_on(s3.head_object().bucket(&t.state_bucket).key("dev/canary.tfstate").send()).is_err(), "the canary was not applied");
    common::assert_chain_verifies(&sb, "after a terraform-engine promotion");
    // The facts of the chain are checked where the terraform engine left the state (the
    // landing zone's key, not the canary's).
    assert_eq!(sb.verify_facts().unwrap(), [], "the terraform-engine deployment is what its state bucket holds");

    // `drift` reads the engine the record names and plans the release's root with hashicorp/aws
    // against the landing zone's state: clean first, then an out-of-band change is drift.
    let fixture = |kind: Option<Engine>| match kind {
        Some(Engine::Terraform) => lz_operate::engine::Engine::terraform_at("stacks/provider-fixture", provider.clone()),
        _ => lz_operate::engine::Engine::canary(),
    };
    let drift = || lz_operate::drift::check_with(&sb.paths, &t, &sb.names("dev"), sb.signer("deployer-bot"), &clock.now().unwrap(), &fixture);
    let clean = drift().unwrap_or_else(|e| panic!("{e:#}"));
    assert!(!clean.terraform_changes && clean.findings.is_empty(), "{clean:?}");
    let tagging = Tagging::builder().tag_set(Tag::builder().key("changed-by").value("console").build().unwrap()).build().unwrap();
    rt.block_on(s3.put_bucket_tagging().bucket(format!("{name}-data")).tagging(tagging).send()).unwrap();
    let drifted = drift().unwrap_or_else(|e| panic!("{e:#}"));
    assert!(drifted.terraform_changes, "{drifted:?}");
    assert!(drifted.canary_changes.iter().any(|c| c == "aws_s3_bucket.data (update)"), "{drifted:?}");
    let records = sb.ledger().unwrap().records().unwrap();
    let rec = records.iter().find(|x| x.sequence == drifted.record).unwrap();
    let judged = rec.details.drift().unwrap();
    assert_eq!(judged.deployment_record, Some(o.completion_record));
    assert!(judged.resources.as_ref().unwrap().iter().any(|r| r == "dev (landing zone state)"), "{judged:?}");
    assert_eq!(judged.state_version, done.state_version, "drift judged the state the deployment left");
    // The facts gate of the next environment reads the same state: a state written outside
    // change control (a new version of the landing zone's state) is refused.
    let state = rt.block_on(s3.get_object().bucket(&t.state_bucket).key("dev/landing-zone.tfstate").send()).unwrap();
    let bytes = rt.block_on(state.body.collect()).unwrap().into_bytes();
    rt.block_on(s3.put_object().bucket(&t.state_bucket).key("dev/landing-zone.tfstate").body(bytes.to_vec().into()).send()).unwrap();
    let admitted = lz_promote::replay::admitted(&sb.paths).unwrap();
    let e = lz_operate::facts::gate(&sb.paths, &admitted, &r, &sb.place("test").unwrap(), Some(&sb.place("dev").unwrap())).unwrap_err();
    assert!(format!("{e:#}").contains("dev/landing-zone.tfstate") && format!("{e:#}").contains("is no longer version"), "{e:#}");

    // One key (the deployer's) closing the run as if the stand-in had applied it is refused.
    let forged = lz_evidence::record::Fields::new(&r).environment("dev").account(&t.account_id).plan_digest(&o.plan_digest).at(clock.now().unwrap().time).details(
        lz_promote::ledger::DeploymentDetails {
            outcome: "succeeded".into(),
            run: Some(o.run.clone()),
            engine: Some(Engine::Canary),
            in_progress_record: Some(o.in_progress_record),
            ..Default::default()
        },
    );
    match sb.ledger().unwrap().append(lz_evidence::record::Kind::Deployment, forged, sb.signer("deployer-bot")) {
        Err(e) => assert!(format!("{e:#}").contains("decided engine terraform"), "{e:#}"),
        Ok(_) => {
            let store = lz_evidence::LocalStore::new(sb.evidence_file());
            let e = lz_evidence::verify_store(&store, &sb.paths.trust, &[]).unwrap_err();
            assert!(format!("{e:#}").contains("decided engine terraform"), "{e:#}");
        }
    }
}
