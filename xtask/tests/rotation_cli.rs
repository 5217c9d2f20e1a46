//! `cargo xtask rotate` against LocalStack, run as a child process on a rehearsal copy of the
//! repository (test identities, stores of its own): every dev secret rotates and its consumers
//! verify it; a consumer whose role lost access fails verification and the labels roll back; a
//! run SIGKILLed at any step boundary leaves the secret readable and the next run completes; the
//! secret values never reach the output or the evidence chain.
//!
//! Each test works in its own environment's account (dev, test, preprod), so the tests of this
//! binary never share a secret or a consumer role, and holds that account's LocalStack lease, so
//! tests of other binaries (the train's rotation) never rotate its secrets or reset its roles
//! meanwhile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Repo {
    dir: tempfile::TempDir,
    keys: tempfile::TempDir,
}

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if [
            ".terraform",
            ".tools",
            "target",
            ".git",
            "fuzz",
            "node_modules",
            ".cache",
        ]
        .iter()
        .any(|n| name == *n)
        {
            continue;
        }
        let ty = e.file_type().unwrap();
        if ty.is_dir() {
            copy(&e.path(), &to.join(&name));
        } else if ty.is_file() {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn endpoint() -> String {
    lz_platform::localstack::require(&source_root()).unwrap_or_else(|e| panic!("{e:#}"))
}

impl Repo {
    /// A rehearsal copy of the repository with its own stores, created in LocalStack.
    fn new(tag: &str) -> Repo {
        endpoint();
        let dir = tempfile::Builder::new()
            .prefix(&format!("lz-rotation-{tag}-"))
            .tempdir()
            .unwrap();
        let keys = tempfile::Builder::new()
            .prefix("lz-rotation-keys-")
            .tempdir()
            .unwrap();
        copy(&source_root(), dir.path());
        let repo = Repo { dir, keys };
        repo.expect(
            &[
                "rehearsal",
                "setup",
                "--keys",
                repo.keys.path().to_str().unwrap(),
            ],
            0,
        );
        let bob = repo.keys.path().join("bob.key");
        repo.expect(&["bootstrap", "--stores", "--as", "bob", "--key", bob.to_str().unwrap()], 0);
        repo
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn key(&self, name: &str) -> String {
        self.keys
            .path()
            .join(format!("{name}.key"))
            .display()
            .to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
        c.args(args)
            .env("LZ_ROOT", self.root())
            .current_dir(self.root());
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    fn expect(&self, args: &[&str], code: i32) -> String {
        let (got, out, err) = self.run(args);
        assert_eq!(
            got, code,
            "{args:?}: exit {got}, want {code}\nstdout:\n{out}\nstderr:\n{err}"
        );
        format!("{out}{err}")
    }

    fn rotate(&self, env: &str, secret: &str, code: i32) -> (Vec<Value>, String) {
        let key = self.key("deployer-bot");
        let mut args = vec![
            "rotate",
            "--env",
            env,
            "--as",
            "deployer-bot",
            "--key",
            &key,
            "--ticket",
            "CHG-77",
            "--format",
            "json",
        ];
        if secret == "--all" {
            args.push("--all");
        } else {
            args.extend(["--secret", secret]);
        }
        let text = self.expect(&args, code);
        let json = &text[text.find('[').expect("JSON output")..text.rfind(']').unwrap() + 1];
        (serde_json::from_str(json).unwrap(), text)
    }

    /// The evidence chain as `evidence pull` caches it (verified first): each line followed by
    /// its decoded statement.
    fn chain(&self) -> String {
        self.expect(&["evidence", "pull"], 0);
        let raw = std::fs::read_to_string(self.root().join(".tools/evidence/main.jsonl")).unwrap();
        let mut out = String::new();
        for l in raw.lines() {
            out.push_str(l);
            out.push('\n');
            out.push_str(
                &statement(l)
                    .expect("every line is a DSSE envelope")
                    .to_string(),
            );
            out.push('\n');
        }
        out
    }

    fn target(&self, env: &str) -> lz_operate::promote::Target {
        lz_operate::promote::Target::from_tree(self.root(), env, &endpoint()).unwrap()
    }
}

fn sm(t: &lz_operate::promote::Target) -> aws_sdk_secretsmanager::Client {
    lz_platform::aws::secretsmanager(
        &t.endpoint,
        lz_platform::aws::account_credentials(&t.account_id),
        &t.region,
    )
}

/// (AWSCURRENT version id, its value digest)
fn current(t: &lz_operate::promote::Target, name: &str) -> (String, String) {
    let c = sm(t);
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(async {
        let v = c
            .get_secret_value()
            .secret_id(name)
            .version_stage("AWSCURRENT")
            .send()
            .await
            .unwrap();
        (
            v.version_id().unwrap().to_string(),
            lz_evidence::dsse::sha256_hex(v.secret_string().unwrap().as_bytes()),
        )
    })
}

fn value(t: &lz_operate::promote::Target, name: &str, version: &str) -> String {
    let c = sm(t);
    let rt = lz_platform::aws::runtime().unwrap();
    rt.block_on(async {
        c.get_secret_value()
            .secret_id(name)
            .version_id(version)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap()
            .to_string()
    })
}

#[test]
fn every_dev_secret_rotates_verified_by_its_consumers_and_no_value_reaches_output_or_evidence() {
    let repo = Repo::new("dev");
    let t = repo.target("dev");
    let _lease = lz_platform::localstack::lease(&[&t.account_id]).unwrap();
    reset_consumers(
        &t,
        &[
            "market-data-task",
            "matching-engine-task",
            "order-gateway-task",
            "position-store-task",
            "risk-engine-task",
        ],
    );
    // A first run creates the secrets that do not exist yet; then a canary value becomes
    // AWSCURRENT of one of them, and the next run rotates it away.
    repo.rotate("dev", "--all", 0);
    let canary_secret = "lz-dev/matching-engine/fix-session-credentials";
    let canary = format!("canary-{}", hex_nonce());
    lz_platform::aws::runtime().unwrap().block_on(async {
        sm(&t)
            .put_secret_value()
            .secret_id(canary_secret)
            .secret_string(&canary)
            .send()
            .await
            .unwrap();
    });
    let (canary_version, _) = current(&t, canary_secret);
    let (outcomes, output) = repo.rotate("dev", "--all", 0);
    let expected: Vec<&str> = vec![
        "lz-dev/market-data/feed-api-key",
        "lz-dev/matching-engine/fix-session-credentials",
        "lz-dev/order-gateway/tls-certificate",
        "lz-dev/position-store/db-credentials",
        "lz-dev/risk-engine/db-credentials",
    ];
    let got: Vec<&str> = outcomes
        .iter()
        .map(|o| o["resource"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);
    let chain = repo.chain();
    let mut new_values = Vec::new();
    for o in &outcomes {
        let name = o["resource"].as_str().unwrap();
        assert_eq!(o["outcome"], "rotated", "{o:#}");
        let version = o["version"].as_str().unwrap();
        let consumers = o["consumers"].as_array().unwrap();
        assert_eq!(consumers.len(), 1, "{name}: one service reads it: {o:#}");
        let service = name.split('/').nth(1).unwrap();
        assert_eq!(consumers[0]["role"], format!("{service}-task"));
        assert_eq!(consumers[0]["read_version"], version, "{o:#}");
        assert_eq!(
            (
                consumers[0]["declared"].as_bool(),
                consumers[0]["live"].as_bool()
            ),
            (Some(true), Some(true))
        );
        assert_eq!(consumers[0]["previous_readable"], false, "{o:#}");
        // AWSCURRENT on the new version only; the previous carries only AWSPREVIOUS.
        let stages = lz_operate::rotate::stages(&t, name).unwrap();
        assert_eq!(
            stages[version],
            vec!["AWSCURRENT".to_string()],
            "{name}: {stages:?}"
        );
        let previous = o["previous"].as_str().unwrap();
        assert_eq!(
            stages[previous],
            vec!["AWSPREVIOUS".to_string()],
            "{name}: {stages:?}"
        );
        assert_eq!(current(&t, name).0, version);
        assert!(chain.contains(version), "the chain names version {version}");
        new_values.push(value(&t, name, version));
    }
    assert_eq!(
        outcomes
            .iter()
            .find(|o| o["resource"] == canary_secret)
            .unwrap()["previous"],
        canary_version.as_str()
    );
    // The values: neither the canary nor any new value is in the output or the evidence.
    for v in new_values.iter().chain([&canary]) {
        assert!(
            !output.contains(v.as_str()),
            "a secret value reached the output"
        );
        assert!(
            !chain.contains(v.as_str()),
            "a secret value reached the evidence chain"
        );
    }
    // Status lists every dev secret with its last verified rotation and due date.
    let status = repo.expect(
        &["rotation", "status", "--env", "dev", "--format", "json"],
        0,
    );
    let rows: Vec<Value> = serde_json::from_str(&status[status.find('[').unwrap()..]).unwrap();
    assert_eq!(rows.len(), expected.len());
    for r in &rows {
        assert!(
            r["last_rotation"].is_string() && r["due"].is_string(),
            "{r:#}"
        );
        assert_eq!(r["overdue"], false);
        assert!(!status.contains(&canary));
    }
}

/// Deletes the consumer roles of `env` in its LocalStack account (with their inline policies),
/// so the next rotation creates them as the plan declares them.
fn reset_consumers(t: &lz_operate::promote::Target, roles: &[&str]) {
    let iam = lz_platform::aws::iam(
        &t.endpoint,
        lz_platform::aws::account_credentials(&t.account_id),
        &t.region,
    );
    lz_platform::aws::runtime().unwrap().block_on(async {
        for role in roles {
            if let Ok(p) = iam.list_role_policies().role_name(*role).send().await {
                for n in p.policy_names() {
                    iam.delete_role_policy()
                        .role_name(*role)
                        .policy_name(n)
                        .send()
                        .await
                        .unwrap();
                }
                let _ = iam.delete_role().role_name(*role).send().await;
            }
        }
    });
}

/// The consumer's live inline policy replaced by `document`.
fn replace_live_policy(t: &lz_operate::promote::Target, role: &str, document: &str) {
    let iam = lz_platform::aws::iam(
        &t.endpoint,
        lz_platform::aws::account_credentials(&t.account_id),
        &t.region,
    );
    lz_platform::aws::runtime().unwrap().block_on(async {
        let p = iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap();
        for n in p.policy_names() {
            iam.delete_role_policy()
                .role_name(role)
                .policy_name(n)
                .send()
                .await
                .unwrap();
        }
        iam.put_role_policy()
            .role_name(role)
            .policy_name("changed")
            .policy_document(document)
            .send()
            .await
            .unwrap();
    });
}

/// (what happened to the consumer's live policy, the policy, the problem verification reports)
const LOST_ACCESS: &[(&str, &str, &str)] = &[
    (
        "reads only another secret",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-2:222222222222:secret:other-??????"}]}"#,
        "the live policies or permissions boundary of matching-engine-task do not allow",
    ),
    (
        "an explicit deny on every secret",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}]}"#,
        "the live policies or permissions boundary of matching-engine-task do not allow",
    ),
    (
        "may read every version (fallback to the previous one)",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-2:222222222222:secret:lz-test/matching-engine/fix-session-credentials-??????"}]}"#,
        "matching-engine-task may still read the previous version",
    ),
];

#[test]
fn a_consumer_whose_role_lost_access_fails_verification_and_the_labels_roll_back() {
    let repo = Repo::new("lost");
    let t = repo.target("test");
    let _lease = lz_platform::localstack::lease(&[&t.account_id]).unwrap();
    let name = "lz-test/matching-engine/fix-session-credentials";
    let role = "matching-engine-task";
    for (case, document, problem) in LOST_ACCESS {
        // Start from the role as the plan declares it (rotation creates it when absent).
        reset_consumers(&t, &[role]);
        let (ok, _) = repo.rotate("test", name, 0);
        assert_eq!(ok[0]["outcome"], "rotated", "{case}");
        let before = lz_operate::rotate::stages(&t, name).unwrap();
        let current_before = current(&t, name);
        replace_live_policy(&t, role, document);
        let (failed, text) = repo.rotate("test", name, 1);
        let o = &failed[0];
        assert_eq!(o["outcome"], "rolled-back", "{case}: {o:#}");
        assert!(
            o["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p.as_str().unwrap().contains(problem)),
            "{case}: {text}"
        );
        // The labels are back where they were; the secret reads at its previous AWSCURRENT.
        let after = lz_operate::rotate::stages(&t, name).unwrap();
        let failed_version = o["version"].as_str().unwrap();
        for (v, labels) in before.iter().filter(|(_, l)| !l.is_empty()) {
            assert_eq!(
                after.get(v),
                Some(labels),
                "{case}: {v}: before {before:?}, after {after:?}"
            );
        }
        assert!(
            after.get(failed_version).is_none_or(|l| l.is_empty()),
            "{case}: {after:?}"
        );
        assert_eq!(current(&t, name), current_before, "{case}");
        // The failure is recorded: a failed verification and a rolled-back rotation.
        let chain = repo.chain();
        let failed_records = chain
            .lines()
            .filter_map(statement)
            .filter(|s| s["predicate"]["version"] == failed_version)
            .map(|s| s["predicate"]["outcome"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        assert_eq!(failed_records, ["failed", "rolled-back"], "{case}");
    }
    // The role as declared again: the next rotation passes.
    reset_consumers(&t, &[role]);
    let (again, _) = repo.rotate("test", name, 0);
    assert_eq!(again[0]["outcome"], "rotated");
}

/// The in-toto statement of one line of the chain.
fn statement(line: &str) -> Option<Value> {
    use base64::Engine as _;
    let v: Value = serde_json::from_str(line).ok()?;
    let env = v.get("envelope").unwrap_or(&v);
    let payload = env.get("payload")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn hex_nonce() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}")
}

#[test]
fn a_run_killed_at_any_step_boundary_leaves_the_secret_readable_and_the_next_run_completes() {
    let repo = Repo::new("kill");
    let t = repo.target("preprod");
    let _lease = lz_platform::localstack::lease(&[&t.account_id]).unwrap();
    reset_consumers(&t, &["order-gateway-task"]);
    let name = "lz-preprod/order-gateway/tls-certificate";
    repo.rotate("preprod", name, 0);
    let work = repo.root().join(".tools/promote");
    std::fs::create_dir_all(&work).unwrap();
    // (boundary, whether AWSCURRENT has moved to the new version when the run dies)
    for (step, moved) in [
        ("create", false),
        ("set", false),
        ("test", false),
        ("finish", true),
    ] {
        let before = current(&t, name);
        std::fs::write(work.join("rotation-pause-at"), step).unwrap();
        let _ = std::fs::remove_file(work.join("rotation-paused"));
        let key = repo.key("deployer-bot");
        let mut child = repo
            .command(&[
                "rotate",
                "--env",
                "preprod",
                "--secret",
                name,
                "--as",
                "deployer-bot",
                "--key",
                &key,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !work.join("rotation-paused").exists() {
            if let Some(s) = child.try_wait().unwrap() {
                panic!("{step}: the run ended ({s}) before its {step} boundary");
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{step}: the run never reached its boundary"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&exit),
            Some(9),
            "{step}"
        );
        let stages = lz_operate::rotate::stages(&t, name).unwrap();
        let pending = stages
            .iter()
            .find(|(_, l)| l.iter().any(|x| x == "AWSPENDING"))
            .map(|(v, _)| v.clone())
            .unwrap();
        let now = current(&t, name);
        if moved {
            assert_eq!(
                now.0, pending,
                "{step}: AWSCURRENT is on the new version, still pending verification"
            );
        } else {
            assert_eq!(
                now, before,
                "{step}: the secret still reads at its previous AWSCURRENT"
            );
        }
        std::fs::remove_file(work.join("rotation-pause-at")).unwrap();
        let (done, _) = repo.rotate("preprod", name, 0);
        let o = &done[0];
        assert_eq!(o["outcome"], "rotated", "{step}: {o:#}");
        assert_eq!(
            o["version"],
            pending.as_str(),
            "{step}: the next run continued with the pending version"
        );
        assert!(
            o["resumed"].as_str().unwrap().contains(&pending),
            "{step}: {o:#}"
        );
        let stages = lz_operate::rotate::stages(&t, name).unwrap();
        assert_eq!(
            stages[&pending],
            vec!["AWSCURRENT".to_string()],
            "{step}: {stages:?}"
        );
        assert_eq!(
            stages[&before.0],
            vec!["AWSPREVIOUS".to_string()],
            "{step}: {stages:?}"
        );
    }
}

#[test]
fn bad_input_exits_2_naming_file_and_line_and_a_signer_without_the_deployer_role_is_refused() {
    let repo = Repo::new("input");
    let alice = repo.key("alice");
    let bot = repo.key("deployer-bot");
    // (arguments, exit code, words of the message)
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "rotate",
                "--env",
                "uat",
                "--secret",
                "no-such-secret",
                "--as",
                "deployer-bot",
                "--key",
                &bot,
            ],
            2,
            "declares no secret",
        ),
        (
            vec![
                "rotate",
                "--env",
                "uat",
                "--secret",
                "feed-api-key",
                "--as",
                "alice",
                "--key",
                &alice,
            ],
            1,
            "alice may not sign rotation records",
        ),
        (
            vec!["rotation", "status", "--env", "nowhere"],
            2,
            "unknown environment \"nowhere\"",
        ),
    ];
    for (args, code, words) in &cases {
        let text = repo.expect(args, *code);
        assert!(text.contains(words), "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    let policy = repo.root().join("governance/rotation.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replace("owner_group = \"business\"", "owner_group = \"traders\""),
    )
    .unwrap();
    let out = repo.expect(
        &[
            "rotate",
            "--env",
            "uat",
            "--all",
            "--as",
            "deployer-bot",
            "--key",
            &bot,
        ],
        2,
    );
    let line = text
        .lines()
        .position(|l| l.contains("owner_group = \"business\""))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!(
            "governance/rotation.toml:{line}: secret feed-api-key: owner_group \"traders\""
        )),
        "{out}"
    );
}
