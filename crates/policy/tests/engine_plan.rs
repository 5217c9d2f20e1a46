//! `policy --plan FILE` reads the plan straight into the engine's value (`engine_plan`), without
//! serde_json's value of the whole plan: the engine must see exactly the plan the serde_json
//! path gives it (secrets redacted alike), the findings must be the same, and every bad input
//! must be refused with the same message, naming file and line. One thing is stricter: a key
//! named twice in one object is refused.
use std::path::{Path, PathBuf};

use lz_policy::engine_plan::{self, reads_beyond_the_held_parts, Held};
use lz_policy::{redact, Stages};
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policies() -> lz_policy::Policies {
    let opts = lz_policy::Options::for_root(&root());
    lz_policy::Policies::load(&opts.policies, &opts.settings).unwrap()
}

/// Every plan of the fixtures and of the corpus (state files and other documents aside), and
/// a plan of 20 copies of the prod fixture, as files.
fn plan_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in [root().join("crates/policy/tests/data/plans"), root().join("policies/corpus")] {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|e| e.to_str()) == Some("json") && lz_policy::read_plan(&p).is_ok() {
                out.push(p);
            }
        }
    }
    out.sort();
    let prod = lz_policy::read_plan(&root().join("crates/policy/tests/data/plans/prod.json")).unwrap();
    let big = dir.join("prod-x20.json");
    std::fs::write(&big, serde_json::to_string_pretty(&lz_policy::scale::replicate(&prod, 20)).unwrap()).unwrap();
    out.push(big);
    out
}

/// The plan as the engine holds it: the parts no rule reads (`engine_plan::RULES_READ`) empty.
fn held(plan: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let mut out = plan.clone();
    for (k, v) in out.as_object_mut().unwrap().iter_mut() {
        if !engine_plan::RULES_READ.contains(&k.as_str()) {
            *v = match v {
                Value::Null => Value::Null,
                Value::Bool(_) => Value::Bool(false),
                Value::Number(_) => json!(0),
                Value::String(_) => json!(""),
                Value::Array(_) => json!([]),
                Value::Object(_) => json!({}),
            };
        }
    }
    out
}

#[test]
fn a_plan_read_into_the_engine_is_the_converted_plan() {
    let dir = tempfile::tempdir().unwrap();
    let files = plan_files(dir.path());
    assert!(files.len() >= 15, "expected the fixture and corpus plans (UTF-16 ones included), found {}", files.len());
    for f in &files {
        let plan = lz_policy::read_plan(f).unwrap();
        let direct = engine_plan::read(f, Held::RulesRead).unwrap();
        assert!(*direct.input() == redact::engine_input(&held(&plan)), "{}: the engine's input differs", f.display());
        assert_eq!(direct.environment(), lz_policy::plan_environment(&plan), "{}", f.display());
    }
}

#[test]
fn secrets_numbers_and_nesting_read_as_the_converted_plan() {
    let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [],
        "variables": {"environment": {"value": "prod"}},
        "configuration": {"x": {
        "password": "hunter2",
        "db": {"master_password": ["a", 1], "token": null, "api_key": true, "secret_string": {"inner": "x"}},
        "note": format!("key {key} here"),
        "pem": "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        "numbers": [0, 1, -1, u64::MAX, i64::MIN, 1.5, -2.25, 1e300, 0.1],
        "empty": {}, "list": [], "null": null, "t": true, "f": false,
        "same": [{"k": 1, "password": 2}, {"k": 3, "password": 4}],
        "escaped": {"\u{65}nv": "a\"b\\c\u{e9}"},
        }},
        "planned_values": {"password": "hunter2", "root_module": {}},
    });
    let direct = engine_plan::parse(&serde_json::to_string_pretty(&plan).unwrap(), "p.json", Held::RulesRead).unwrap();
    assert!(*direct.input() == redact::engine_input(&held(&plan)));
    assert_eq!(direct.input()["planned_values"], regorus::Value::new_object(), "a part no rule reads is not held");
    assert_eq!(direct.environment(), "prod");
    let text = direct.input().to_json_str().unwrap();
    for secret in ["hunter2", &key, "abc\n", "\"a\""] {
        assert!(!text.contains(secret), "{secret} survived: {text}");
    }
    let x = &direct.input()["configuration"]["x"];
    assert_eq!(x["db"]["secret_string"]["inner"], regorus::Value::from("x"));
    assert_eq!(x["numbers"][3], regorus::Value::from(u64::MAX));
}

/// Issue 29 (memory): a string or a small object the plan repeats is held once, and a secret is
/// still redacted where it stands: the copy under a secret name is replaced, the same value
/// elsewhere is kept, and the engine's input equals the converted plan.
#[test]
fn repeated_values_are_held_once_and_redacted_where_they_stand() {
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [],
        "variables": {"environment": {"value": "prod"}},
        "configuration": {
            "a": {"tags": {"Owner": "platform", "Env": "prod"}, "list": ["v", 1], "secret_string": "prod"},
            "b": {"tags": {"Owner": "platform", "Env": "prod"}, "token": ["v", 1], "secret_string": {"Env": "prod"}},
            "c": {"f": [1.0], "n": [1]},
            "d": {"n": [1]},
        },
    });
    let direct = engine_plan::parse(&serde_json::to_string(&plan).unwrap(), "p.json", Held::RulesRead).unwrap();
    assert!(*direct.input() == redact::engine_input(&held(&plan)));
    let (a, b) = (&direct.input()["configuration"]["a"], &direct.input()["configuration"]["b"]);
    let same = |x: &regorus::Value, y: &regorus::Value| match (x, y) {
        (regorus::Value::Object(p), regorus::Value::Object(q)) => std::ptr::eq(&**p, &**q),
        (regorus::Value::Array(p), regorus::Value::Array(q)) => std::ptr::eq(&**p, &**q),
        (regorus::Value::String(p), regorus::Value::String(q)) => std::ptr::eq(p.as_ptr(), q.as_ptr()),
        _ => false,
    };
    assert!(same(&a["tags"], &b["tags"]), "the repeated tags are two copies");
    assert!(same(&a["tags"]["Env"], &b["secret_string"]["Env"]), "the repeated string is two copies");
    assert_eq!(a["list"], regorus::Value::from(vec![regorus::Value::from("v"), regorus::Value::from(1u64)]));
    assert_eq!(b["token"], regorus::Value::from("[REDACTED]"));
    assert_eq!(a["secret_string"], regorus::Value::from("[REDACTED]"));
    assert_eq!(b["secret_string"]["Env"], regorus::Value::from("prod"), "an object under a secret name is walked, not replaced");
    // The engine orders 1.0 equal to 1: a value holding a number read with a fraction is never
    // shared, so `[1]` is not replaced by the `[1.0]` read before it.
    let c = &direct.input()["configuration"]["c"];
    assert!(!same(&c["f"], &c["n"]), "[1] was replaced by [1.0]");
    assert!(same(&c["n"], &direct.input()["configuration"]["d"]["n"]), "the repeated [1] is two copies");
}

/// The findings of `policy --plan` (the direct path) are those of the serde_json path, in the
/// same order, on every plan file and on a plan of 20 copies of prod.
#[test]
fn a_plan_read_into_the_engine_gives_the_same_findings() {
    let policies = policies();
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for f in plan_files(dir.path()) {
        let want = policies.findings(&lz_policy::read_plan(&f).unwrap()).unwrap();
        let got = policies.findings_engine(engine_plan::read(&f, Held::RulesRead).unwrap(), &mut Stages::default()).unwrap();
        assert_eq!(got, want, "{}", f.display());
        seen += want.len();
    }
    assert!(seen > 100, "too few findings ({seen}) for the comparison to say much");
}

/// `policy --plan FILE` loads the policies and reads the plan at once (two threads): the same
/// findings as the two one after the other, and a policy error reported before a plan error.
#[test]
fn loading_the_policies_while_reading_the_plan_gives_the_same_findings() {
    let opts = lz_policy::Options::for_root(&root());
    let policies = policies();
    let dir = tempfile::tempdir().unwrap();
    for f in plan_files(dir.path()) {
        let want = policies.findings_engine(engine_plan::read(&f, policies.held()).unwrap(), &mut Stages::default()).unwrap();
        let (loaded, plan) = lz_policy::Policies::load_with_plan(&opts.policies, &opts.settings, &f).unwrap();
        assert_eq!(plan.environment(), engine_plan::read(&f, policies.held()).unwrap().environment());
        assert_eq!(loaded.findings_engine(plan, &mut Stages::default()).unwrap(), want, "{}", f.display());
    }
    let bad_plan = dir.path().join("bad.json");
    std::fs::write(&bad_plan, "{\n  \"format_version\": ").unwrap();
    let e = lz_policy::Policies::load_with_plan(&opts.policies, &opts.settings, &bad_plan).err().expect("a malformed plan is refused");
    assert!(format!("{e:#}").contains("bad.json:2"), "{e:#}");
    let e = lz_policy::Policies::load_with_plan(&opts.policies, &dir.path().join("no-settings.toml"), &bad_plan).err().expect("missing settings are refused");
    assert!(format!("{e:#}").contains("no-settings.toml"), "the policy error comes first: {e:#}");
}

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

/// Bad input of every kind `read_plan` refuses is refused by the direct path with the same
/// message (file, line and column included), and good input in every encoding reads alike.
#[test]
fn bad_input_is_refused_as_read_plan_refuses_it() {
    let rc = |change: &str| {
        format!(r#"{{"format_version":"1.2","resource_changes":[{{"address":"a.b","type":"a","name":"b","change":{change}}}]}}"#)
    };
    let deep = format!(r#"{{"format_version":"1.2","resource_changes":[],"x":{}{}}}"#, "[".repeat(200), "]".repeat(200));
    let texts: Vec<String> = vec![
        "".into(),
        "{".into(),
        r#"{"format_version":"1.2","resource_changes":[]} x"#.into(),
        "{\n \"format_version\": \"1.2\",\n \"resource_changes\": [,]\n}".into(),
        "[1, 2]".into(),
        r#"{"version":4,"lineage":"x","serial":1,"resources":[]}"#.into(),
        r#"{"format_version":"1.0","values":{}}"#.into(),
        r#"{"format_version":"9.9","resource_changes":[]}"#.into(),
        r#"{"format_version":"1.2","provider_schemas":{}}"#.into(),
        r#"{"a":1}"#.into(),
        deep,
        // Review item 10: nesting past the limit inside a held part, not only in a walked one.
        format!(r#"{{"format_version":"1.2","resource_changes":[],"configuration":{{"x":{}{}}}}}"#, "[".repeat(200), "]".repeat(200)),
        rc(r#""create""#),
        rc(r#"{"actions":[1]}"#),
        rc(r#"{"actions":["create"],"after":"x"}"#),
        r#"{"format_version":"1.2","resource_changes":[],"variables":{"region":"eu-west-1"}}"#.into(),
        r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{"module_calls":{"m":{"module":{"resources":{}}}}}}}"#.into(),
        // References under a secret-named block: checked before secrets are redacted, as before.
        r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{"resources":[{"expressions":{"password":[{"references":[1]}]}}]}}}"#.into(),
        // Over several lines: the line of the wrong value.
        "{\n \"format_version\": \"1.2\",\n \"resource_changes\": [\n  {\"address\": \"a.b\", \"type\": \"a\", \"name\": \"b\",\n   \"change\": \"create\"}\n ]\n}".into(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.json");
    let mut bytes: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    bytes.extend([vec![0xFF, 0xFE, 0x41], vec![0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00], vec![0x7B, 0xC3, 0x28], utf16(&rc(r#""create""#), false)]);
    for b in &bytes {
        std::fs::write(&file, b).unwrap();
        let want = format!("{:#}", lz_policy::read_plan(&file).expect_err(&String::from_utf8_lossy(b)));
        let got = format!("{:#}", engine_plan::read(&file, Held::RulesRead).err().unwrap_or_else(|| panic!("accepted: {}", String::from_utf8_lossy(b))));
        assert_eq!(got, want);
        assert!(got.starts_with(&file.display().to_string()), "{got}");
    }
    let good = std::fs::read_to_string(root().join("policies/corpus/iam-escalation.format-1.2.json")).unwrap();
    let plain = engine_plan::parse(&good, "p.json", Held::RulesRead).unwrap().input().clone();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(good.as_bytes());
    for b in [bom, utf16(&good, true), utf16(&good, false)] {
        std::fs::write(&file, b).unwrap();
        assert!(engine_plan::read(&file, Held::RulesRead).unwrap().input() == &plain);
    }
}

/// serde_json keeps the last of two equal keys and another reader may keep the first: a plan
/// naming a key twice in one object is refused, naming the file, the line and column and the
/// key's path; an escaped spelling of the same key is the same key; equal keys in different
/// objects are fine.
#[test]
fn a_key_named_twice_is_refused_naming_file_line_and_path() {
    let rc = |fields: &str| {
        format!("{{\"format_version\":\"1.2\",\n\"resource_changes\":[{{\"address\":\"a.b\",\"type\":\"a\",\"name\":\"b\",\"change\":{{\"actions\":[\"create\"],\"after\":{{{fields}}}}}}}]}}")
    };
    for (fields, path) in [
        (r#""acl":"private","acl":"public-read""#, "resource_changes[0].change.after.acl"),
        (r#""acl":"private","\u0061cl":"public-read""#, "resource_changes[0].change.after.acl"),
        (r#""tags":{"a":1,"b":2,"a":3}"#, "resource_changes[0].change.after.tags.a"),
    ] {
        let text = rc(fields);
        let err = format!("{:#}", engine_plan::parse(&text, "p.json", Held::RulesRead).err().unwrap_or_else(|| panic!("accepted: {text}")));
        assert!(err.starts_with("p.json:2:"), "{err}");
        assert!(err.contains(&format!("invalid plan JSON: key {path} is named twice")), "{err}");
    }
    let top = r#"{"format_version":"1.2","resource_changes":[],"format_version":"1.2"}"#;
    let err = format!("{:#}", engine_plan::parse(top, "p.json", Held::RulesRead).err().expect("a top-level key twice is refused"));
    assert!(err.contains("key format_version is named twice"), "{err}");
    // In a part no rule reads (walked, not held) too.
    let unread = r#"{"format_version":"1.2","resource_changes":[],"planned_values":{"root_module":{"a":1,"a":2}}}"#;
    let err = format!("{:#}", engine_plan::parse(unread, "p.json", Held::RulesRead).err().expect("a key twice in planned_values is refused"));
    assert!(err.contains("key planned_values.root_module.a is named twice"), "{err}");
    assert!(engine_plan::parse(&rc(r#""tags":{"a":1},"tags_all":{"a":1}"#), "p.json", Held::RulesRead).is_ok());
}

/// The parts of a plan `policy --plan` does not hold are read by no rule: a rule reading
/// `input.planned_values`, or the input as a whole, is named with its file and line (it would
/// see an empty part), so the list in `engine_plan::RULES_READ` must grow with it.
#[test]
fn rules_read_only_the_parts_of_the_plan_that_are_held() {
    let dir = root().join("policies");
    let mut found = Vec::new();
    let mut read = 0;
    for e in walkdir::WalkDir::new(&dir) {
        let p = e.unwrap().into_path();
        let rel = p.strip_prefix(&dir).unwrap().display().to_string();
        if p.extension().and_then(|e| e.to_str()) != Some("rego") || rel.ends_with("_test.rego") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        read += text.matches("input").count();
        found.extend(reads_beyond_the_held_parts(&rel, &text));
    }
    assert!(read >= 10, "the policies read the input in {read} places: the scan looked at nothing");
    assert!(found.is_empty(), "rules read parts of the plan policy --plan does not hold:\n{}", found.join("\n"));
    // At run time: these policies get the held parts only; policies that read more (a release
    // newer than this binary) get the whole plan, never an empty part.
    assert_eq!(policies().held(), Held::RulesRead);
    let mut tree = lz_policy::PolicyTree::load(&dir).unwrap();
    tree.files.push(lz_policy::rules::PolicyFile {
        rel: "x/x.rego".into(),
        text: "package lz.rules.x\n\nx := input.planned_values\n".into(),
        package: "lz.rules.x".into(),
        is_test: false,
    });
    assert_eq!(Held::for_policies(&tree), Held::All);
    let plan = r#"{"format_version":"1.2","resource_changes":[],"planned_values":{"root_module":{"a":1}}}"#;
    let all = engine_plan::parse(plan, "p.json", Held::All).unwrap().input().clone();
    assert_eq!(all["planned_values"]["root_module"]["a"], regorus::Value::from(1u64));
    // The scan names what it must name.
    for bad in ["x := input.planned_values.root_module", "walk(input, [p, v])", "v := object.get(input, k, null)", "x := input[\"prior_state\"]"] {
        assert_eq!(reads_beyond_the_held_parts("t.rego", bad).len(), 1, "{bad}");
    }
    // Review of lane policymem: a `#` inside a string or raw string is not a comment (a raw
    // string may span lines); `object.get(` is allowed as the builtin only; a name `object`
    // that could stand for the builtin, or text the scan cannot read, holds the whole plan.
    for bad in [
        "msg := sprintf(\"rule #%v: %v\", [n, input.planned_values.root_module])",
        "msg := concat(`#`, [input.prior_state])",
        "x := `a\n# b\n` == input.planned_values",
        "x := \"a\\\"#\" == input.planned_values",
        "v := lib.object.get(input, \"variables\", {})",
        "v := data.lz.lib.object.get(input, \"variables\", {})",
        "v := plan_object.get(input, \"variables\", {})",
    ] {
        assert_eq!(reads_beyond_the_held_parts("t.rego", bad).len(), 1, "{bad}");
    }
    let multi = "x := `a\n#` == \"#\"\ny := input.resource_changes\nz := input.prior_state\n";
    assert_eq!(reads_beyond_the_held_parts("t.rego", multi), vec!["t.rego:4: z := input.prior_state".to_string()]);
    for doubt in [
        "import data.lz.lib.object\nv := object.get(input, \"variables\", {})",
        "import data.lz.lib.plan as object\nv := object.get(input, \"variables\", {})",
        "object.get(doc, k, d) := doc.planned_values\nv := object.get(input, \"variables\", {})",
        "x := \"unterminated\ny := input.configuration",
        "x := `unterminated\ny := input.configuration",
    ] {
        assert!(!reads_beyond_the_held_parts("t.rego", doubt).is_empty(), "{doubt}");
        let mut t = lz_policy::PolicyTree::load(&dir).unwrap();
        t.files.push(lz_policy::rules::PolicyFile { rel: "x/x.rego".into(), text: doubt.into(), package: "lz.rules.x".into(), is_test: false });
        assert_eq!(Held::for_policies(&t), Held::All, "{doubt}");
    }
    for good in [
        "msg := sprintf(\"rule #%v\", [input.configuration]) # input.planned_values",
        "x := \"input.planned_values\"",
        "x := `input.prior_state\n` == input.variables",
        "v := object.get( input, \"variables\", {})",
    ] {
        assert!(reads_beyond_the_held_parts("t.rego", good).is_empty(), "{good}");
    }
    for good in ["x := input.configuration", "some rc in arr(object.get(input, \"resource_changes\", []))", "v := object.get(input, [\"variables\", name, \"value\"], null)", "# input.planned_values in a comment"] {
        assert!(reads_beyond_the_held_parts("t.rego", good).is_empty(), "{good}");
    }
}

/// Review of lane policymem, item 3: a plan read holding only the parts the repository's rules
/// read is refused by policies that read more (they would read empty parts and pass); a plan
/// holding everything serves any policies.
#[test]
fn a_plan_holding_less_than_the_policies_read_is_refused() {
    let plan = r#"{"format_version":"1.2","resource_changes":[],"planned_values":{"root_module":{}}}"#;
    // The repository's policies, and one more rule reading a part of the plan no rule reads.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("policies"), &dir.path().join("policies"));
    let lib = dir.path().join("policies/lib/plan.rego");
    let text = std::fs::read_to_string(&lib).unwrap() + "\nreads_more_than_held := input.planned_values\n";
    std::fs::write(&lib, text).unwrap();
    let opts = lz_policy::Options::for_root(&root());
    let all = lz_policy::Policies::load(&dir.path().join("policies"), &opts.settings).unwrap();
    assert_eq!(all.held(), Held::All, "a policy reading planned_values is judged to read more");
    let err = all.findings_engine(engine_plan::parse(plan, "p.json", Held::RulesRead).unwrap(), &mut Stages::default()).unwrap_err();
    assert!(format!("{err:#}").contains("the policies in force read more"), "{err:#}");
    let whole = engine_plan::parse(plan, "p.json", Held::All).unwrap();
    assert_eq!(whole.held(), Held::All);
    assert!(all.findings_engine(whole, &mut Stages::default()).is_ok());
    assert!(policies().findings_engine(engine_plan::parse(plan, "p.json", Held::All).unwrap(), &mut Stages::default()).is_ok());
}

/// Review items 7 and 8: a numeric `format_version` written `1.0` reads as serde_json reads it
/// (a supported plan), and the path of a key named twice is quoted, its control characters
/// escaped and secrets in it redacted.
#[test]
fn a_numeric_version_reads_as_before_and_a_twice_named_key_is_escaped() {
    for text in [r#"{"format_version": 1.0, "resource_changes": []}"#, r#"{"format_version": 1.2, "resource_changes": [], "variables": {}}"#] {
        assert!(lz_policy::parse_plan(text, "p.json").is_ok(), "{text}");
        let direct = engine_plan::parse(text, "p.json", Held::RulesRead).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        assert!(*direct.input() == redact::engine_input(&serde_json::from_str(text).unwrap()), "{text}");
    }
    let err = engine_plan::parse(r#"{"format_version": 9.5, "resource_changes": []}"#, "p.json", Held::RulesRead).err().expect("refused");
    assert!(!format!("{err:#}").contains("a defect"), "{err:#}");
    let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    for (k, want) in [
        ("a.b\\u001b[31m", r#"configuration."a.b\u{1b}[31m" is named twice"#),
        ("x y", r#"configuration."x y" is named twice"#),
        (key.as_str(), "configuration.AKIA**************** is named twice"),
    ] {
        let text = format!(r#"{{"format_version":"1.2","resource_changes":[],"configuration":{{"{k}":1,"{k}":2}}}}"#);
        let err = format!("{:#}", engine_plan::parse(&text, "p.json", Held::RulesRead).err().expect("refused"));
        assert!(err.contains(want), "{err}");
        assert!(!err.contains('\u{1b}') && !err.contains(&key), "{err}");
    }
}


fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
