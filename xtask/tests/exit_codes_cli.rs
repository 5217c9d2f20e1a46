//! One exit-code contract across commands, table-driven on the shipped binary: 0 ok, 1 a
//! finding or a refusal ("refused: ..."), 2 a tool or input error ("error: ..."). Every refusal
//! names its rule and the command that resolves it with every required flag. `promote --dry-run`
//! and `classify` show every gate; the dry run's verdict is the promotion's.

mod common;

use common::{checkout, key, ok, ready_to_promote, xtask};

struct Case<'a> {
    what: &'a str,
    args: Vec<String>,
    code: i32,
    /// Text stdout or stderr must hold.
    says: &'a [&'a str],
}

#[test]
fn one_exit_code_contract_across_commands() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir = d.path();
    checkout(dir, keys.path());
    let digest = ready_to_promote(dir, keys.path());
    let k = |who: &str| key(keys.path(), who);
    let r = &digest[..12];
    // test is pinned (so its gates can be judged) but dev is not deployed yet.
    ok(dir, &["bootstrap", "--env", "test", "--pin", &digest, "--as", "bob", "--key", &k("bob")]);
    let opened = ok(dir, &["break-glass", "open", "--env", "dev", "--as", "oscar", "--key", &k("oscar"), "--reason", "outage", "--ticket", "INC-1", "--ttl", "30"]);
    let id = opened.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.parse::<u64>().is_ok(), "{opened}");

    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        Case {
            what: "classify reports every gate and exits 0",
            args: args(&["classify", "--release", &digest, "--env", "test"]),
            code: 0,
            says: &["previous-environment", "UNMET", "approvals", "may approve:"],
        },
        Case {
            what: "a dry run the promotion would admit",
            args: args(&["promote", "--dry-run", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--format", "json"]),
            code: 0,
            says: &["\"admitted\": true", "\"gate\": \"break-glass\""],
        },
        Case {
            what: "a dry run the promotion would refuse",
            args: args(&["promote", "--dry-run", "--release", &digest, "--to", "test", "--as", "deployer-bot"]),
            code: 1,
            says: &["verdict: refused", "resolve: cargo xtask promote --release", "resolve: cargo xtask approve --release"],
        },
        Case {
            what: "the author approving their release",
            args: args(&["approve", "--release", &digest, "--env", "dev", "--as", "alice", "--key", &k("alice"), "--reason", "mine"]),
            code: 1,
            says: &["refused: alice authored release", "(segregation of duties)", "`cargo xtask approve --release", "--as APPROVER --key FILE --reason TEXT`"],
        },
        Case {
            what: "the author deploying their release",
            args: args(&["promote", "--release", &digest, "--to", "dev", "--as", "alice", "--key", &k("alice"), "--policy-key", &k("change-policy-dev")]),
            code: 1,
            says: &["refused: alice authored release", "cannot deploy it (segregation of duties)"],
        },
        Case {
            what: "skipping an environment",
            args: args(&["promote", "--release", &digest, "--to", "test", "--as", "deployer-bot", "--key", &k("deployer-bot"), "--policy-key", &k("change-policy-test")]),
            code: 1,
            says: &["refused: release", "it has not been deployed to dev (promotion order"],
        },
        Case {
            what: "the requester approving their break-glass",
            args: args(&["break-glass", "approve", "--id", &id, "--as", "oscar", "--key", &k("oscar"), "--reason", "me"]),
            code: 1,
            says: &["refused: oscar requested break-glass", "a second person must: `cargo xtask break-glass approve --id", "--as ID --key FILE --reason TEXT`"],
        },
        Case {
            what: "the requester signing the retrospective",
            args: args(&["break-glass", "retrospective", "--id", &id, "--as", "oscar", "--key", &k("oscar"), "--ticket", "INC-1", "--outcome", "ok"]),
            code: 1,
            says: &["refused: oscar opened break-glass", "(segregation of duties)", "`cargo xtask break-glass retrospective --id", "--ticket TICKET --outcome TEXT`"],
        },
        Case {
            what: "a malformed digest",
            args: args(&["classify", "--release", "not-a-digest", "--env", "dev"]),
            code: 2,
            says: &["is not a release digest"],
        },
        Case {
            what: "an unknown environment",
            args: args(&["promote", "--dry-run", "--release", &digest, "--to", "staging", "--as", "deployer-bot"]),
            code: 2,
            says: &["staging"],
        },
        Case {
            what: "a record that is no break-glass",
            args: args(&["break-glass", "approve", "--id", "999999", "--as", "frank", "--key", &k("frank"), "--reason", "x"]),
            code: 2,
            says: &["error: "],
        },
    ];
    let mut failed = Vec::new();
    for c in &cases {
        let argv: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let (code, out, err) = xtask(dir, &argv);
        let both = format!("{out}{err}");
        let prefix_ok = match code {
            1 if c.args[0] != "classify" && !c.args.contains(&"--dry-run".to_string()) => err.contains("refused: "),
            2 => err.contains("error: ") || err.contains("error:"),
            _ => true,
        };
        let missing: Vec<&&str> = c.says.iter().filter(|s| !both.contains(**s)).collect();
        if code != c.code || !missing.is_empty() || !prefix_ok {
            failed.push(format!("{}: exit {code} (expected {}), missing {missing:?}\nstdout:\n{out}\nstderr:\n{err}", c.what, c.code));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));

    // The dry run said dev admits: the promotion does.
    ok(dir, &["promote", "--release", &digest, "--to", "dev", "--as", "deployer-bot", "--key", &k("deployer-bot"), "--policy-key", &k("change-policy-dev")]);
    let _ = r;
}
