//! Plan input: encodings, plan format versions, and documents that are not plans, as a case
//! table.
use lz_policy::input::{classify, decode, parse, parse_bytes, Kind};

const PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.8","resource_changes":[]}"#;

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn encodings_decode_to_the_same_plan() {
    let plain = parse(PLAN, "p.json").unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(PLAN.as_bytes());
    for bytes in [
        PLAN.as_bytes().to_vec(),
        bom,
        utf16(PLAN, true),
        utf16(PLAN, false),
    ] {
        assert_eq!(parse_bytes(&bytes, "p.json").unwrap(), plain);
    }
}

#[test]
fn bad_encodings_name_the_file() {
    for (bytes, want) in [
        (
            vec![0xFF, 0xFE, 0x41],
            "p.json: UTF-16 LE text has an odd number of bytes",
        ),
        (
            vec![0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00],
            "p.json: invalid UTF-16 LE text",
        ),
        (
            vec![0x7B, 0xC3, 0x28],
            "p.json:1:2: invalid UTF-8 (byte 0xc3)",
        ),
    ] {
        let msg = format!("{:#}", decode(&bytes, "p.json").unwrap_err());
        assert!(msg.starts_with(want), "{msg}");
    }
}

#[test]
fn every_plan_format_version_is_accepted() {
    for fv in ["0.1", "0.2", "1.0", "1.1", "1.2"] {
        let text = PLAN.replace("1.2", fv);
        assert_eq!(
            classify(&parse(&text, "p.json").unwrap()),
            Kind::Plan(fv.to_string())
        );
    }
    // Terraform 0.12 leaves resource_changes out of a plan with no changes.
    let empty = r#"{"format_version":"0.1","terraform_version":"0.12.31","variables":{},"configuration":{}}"#;
    assert!(parse(empty, "p.json").is_ok());
}

#[test]
fn documents_that_are_not_plans_are_refused_with_what_they_are() {
    let cases = [
        (
            r#"{"version":4,"terraform_version":"1.9.8","serial":3,"lineage":"x","resources":[]}"#,
            "is a Terraform state file (state version 4)",
        ),
        (
            r#"{"version":3,"serial":1,"modules":[]}"#,
            "is a Terraform state file (state version 3)",
        ),
        (
            r#"{"format_version":"1.0","terraform_version":"1.9.8","values":{}}"#,
            "is Terraform state shown as JSON",
        ),
        (
            r#"{"format_version":"1.0"}"#,
            "is Terraform state shown as JSON",
        ),
        (
            r#"{"format_version":"1.0","provider_schemas":{}}"#,
            "provider schemas",
        ),
        (
            r#"{"format_version":"2.0","resource_changes":[]}"#,
            "plan format version 2.0 is not one",
        ),
        (r#"{"Statement":[]}"#, "not a Terraform plan"),
        ("[]", "a JSON array, not an object"),
        ("{}", "an empty JSON object"),
    ];
    for (text, want) in cases {
        let msg = format!("{:#}", parse(text, "x.json").unwrap_err());
        assert!(msg.starts_with("x.json:1:1: "), "{msg}");
        assert!(msg.contains(want), "{text}: {msg}");
    }
}

#[test]
fn the_normalized_form_keeps_what_policies_need() {
    let raw = serde_json::json!({"format_version": "1.2", "terraform_version": "1.9.8", "timestamp": "t", "configuration": {"root_module": {}}, "resource_changes": []});
    let canonical = serde_json::json!({"format_version": "1.2", "resource_changes": []});
    let doc = lz_policy::input::with_policy_context(&raw, canonical);
    assert_eq!(
        doc,
        serde_json::json!({"configuration": {"root_module": {}}, "format_version": "1.2", "resource_changes": [], "terraform_version": "1.9.8"})
    );
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "configuration",
            "format_version",
            "resource_changes",
            "terraform_version"
        ]
    );
}

/// Plan-shaped JSON with wrong types is refused as malformed, naming the JSON path of the
/// first wrong value, by `parse` and by every evaluation (a plan built in memory), never a
/// Rego evaluator error.
#[test]
fn malformed_plans_are_refused_naming_where() {
    let rc = |change: &str| {
        format!(r#"{{"format_version":"1.2","resource_changes":[{{"address":"a.b","type":"a","name":"b","change":{change}}}]}}"#)
    };
    let cases: Vec<(String, &str)> = vec![
        (rc(r#""create""#), "resource_changes[0].change is a string, expected an object"),
        (rc(r#"{"after":{}}"#), "resource_changes[0].change.actions is missing, expected an array"),
        (rc(r#"{"actions":[1]}"#), "resource_changes[0].change.actions[0] is a number, expected a string"),
        (rc(r#"{"actions":["create"],"after":"x"}"#), "resource_changes[0].change.after is a string, expected an object or null"),
        (rc(r#"{"actions":["create"],"after_unknown":[]}"#), "resource_changes[0].change.after_unknown is an array, expected an object or a boolean"),
        (r#"{"format_version":"1.2","resource_changes":{}}"#.into(), "resource_changes is an object, expected an array"),
        (r#"{"format_version":"1.2","resource_changes":["x"]}"#.into(), "resource_changes[0] is a string, expected an object"),
        (r#"{"format_version":"1.2","resource_changes":[{"type":"a","name":"b","change":{"actions":[]}}]}"#.into(), "resource_changes[0].address is missing, expected a string"),
        (r#"{"format_version":"1.2","resource_changes":[],"variables":{"region":"eu-west-1"}}"#.into(), "variables.region is a string, expected an object"),
        (
            r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{"module_calls":{"m":{"module":{"resources":{}}}}}}}"#.into(),
            "configuration.root_module.module_calls.m.module.resources is an object, expected an array",
        ),
        (
            r#"{"format_version":"1.2","resource_changes":[],"configuration":{"provider_config":{"aws":{"expressions":[]}}}}"#.into(),
            "configuration.provider_config.aws.expressions is an array, expected an object",
        ),
        (
            r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{"resources":[{"expressions":{"subnet_id":{"references":["aws_subnet.a.id",{}]}}}]}}}"#.into(),
            "configuration.root_module.resources[0].expressions.subnet_id.references[1] is an object, expected a string",
        ),
    ];
    let opts = lz_policy::Options::for_root(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let policies = lz_policy::Policies::load(&opts.policies, &opts.settings).unwrap();
    for (text, want) in &cases {
        // The file, then the line and column of the value named (of the object that lacks a
        // missing key): each case is one line, so the column is where the path's value starts.
        let err = format!("{:#}", parse(text, "p.json").expect_err(text));
        let path = want.split(" is ").next().unwrap();
        let value_at = path.rsplit(['.', '[']).next().unwrap().trim_end_matches(']');
        let located = err.strip_prefix("p.json:1:").and_then(|rest| rest.split_once(": the plan is malformed: "));
        let Some((col, message)) = located else { panic!("{text}: {err}") };
        assert_eq!(message, *want, "{text}");
        let col: usize = col.parse().unwrap_or_else(|_| panic!("{err}"));
        let before = &text[..col - 1];
        assert!(
            before.ends_with(&format!("\"{value_at}\":")) || before.ends_with('[') || before.ends_with(',') || want.contains("missing"),
            "{text}: column {col} is not where {path} starts"
        );
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let err = format!("{:#}", policies.findings(&value).expect_err(text));
        assert_eq!(err, format!("the plan is malformed: {want}"), "{text}");
    }
    // Over several lines: the line of the wrong value.
    let text = "{\n \"format_version\": \"1.2\",\n \"resource_changes\": [\n  {\"address\": \"a.b\", \"type\": \"a\", \"name\": \"b\",\n   \"change\": \"create\"}\n ]\n}";
    let err = format!("{:#}", parse(text, "p.json").expect_err(text));
    assert_eq!(err, "p.json:5:14: the plan is malformed: resource_changes[0].change is a string, expected an object");
    // Well-formed plans of every shape the corpus holds still parse.
    assert!(parse(&rc(r#"{"actions":["create"],"before":null,"after":null,"after_unknown":true}"#), "p.json").is_ok());
}

/// Wrong types anywhere the policies read in real plans of the corpus: every object, array and
/// string value of a resource change's `after` (two levels deep) and of the configuration's
/// resource expressions, replaced by a value of another kind, one at a time, either evaluates
/// or is refused as a malformed plan, never with a policy evaluator error.
#[test]
fn wrong_types_in_corpus_plans_never_reach_the_evaluator_as_errors() {
    use serde_json::Value;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let opts = lz_policy::Options::for_root(&root);
    let policies = lz_policy::Policies::load(&opts.policies, &opts.settings).unwrap();
    fn paths(v: &Value, at: Vec<Value>, depth: usize, out: &mut Vec<Vec<Value>>) {
        match v {
            Value::Object(m) if depth > 0 => {
                for (k, x) in m {
                    let mut p = at.clone();
                    p.push(Value::from(k.as_str()));
                    out.push(p.clone());
                    paths(x, p, depth - 1, out);
                }
            }
            Value::Array(a) if depth > 0 => {
                for (i, x) in a.iter().enumerate().take(2) {
                    let mut p = at.clone();
                    p.push(Value::from(i));
                    out.push(p.clone());
                    paths(x, p, depth - 1, out);
                }
            }
            _ => {}
        }
    }
    fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
        path.iter().fold(v, |v, seg| match seg {
            Value::String(k) => &mut v[k.as_str()],
            s => &mut v[s.as_u64().unwrap() as usize],
        })
    }
    let mut failures = Vec::new();
    let mut tried = 0;
    for file in ["public-subnet-trading-workload.format-1.2.json", "s3-inline-unknown-kms-key.format-1.2.json", "iam-escalation.format-1.2.json"] {
        let bytes = std::fs::read(root.join("policies/corpus").join(file)).unwrap();
        let plan = lz_policy::input::parse_bytes(&bytes, file).unwrap();
        let mut targets = Vec::new();
        for (i, rc) in plan["resource_changes"].as_array().unwrap().iter().enumerate() {
            let base = vec![Value::from("resource_changes"), Value::from(i), Value::from("change"), Value::from("after")];
            paths(&rc["change"]["after"], base, 2, &mut targets);
        }
        let cfg_root = vec![Value::from("configuration"), Value::from("root_module"), Value::from("resources")];
        for (i, r) in plan["configuration"]["root_module"]["resources"].as_array().into_iter().flatten().enumerate() {
            let mut base = cfg_root.clone();
            base.extend([Value::from(i), Value::from("expressions")]);
            paths(&r["expressions"], base, 3, &mut targets);
        }
        for path in targets {
            let mut mutated = plan.clone();
            let slot = get_mut(&mut mutated, &path);
            *slot = match slot {
                Value::Object(_) | Value::Array(_) => Value::from("x"),
                Value::String(_) => serde_json::json!({ "k": 1 }),
                _ => continue,
            };
            tried += 1;
            if let Err(e) = policies.findings(&mutated) {
                let e = format!("{e:#}");
                if !e.starts_with("the plan is malformed: ") {
                    failures.push(format!("{file} {path:?}: {e}"));
                }
            }
        }
    }
    assert!(tried > 100, "only {tried} mutations");
    assert!(failures.is_empty(), "{} of {tried} mutations reached the evaluator as errors:\n{}", failures.len(), failures.join("\n"));
}
