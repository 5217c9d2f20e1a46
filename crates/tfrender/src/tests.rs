//! Table-driven tests of the evaluator, functions and whole renders.
use std::path::Path;

use crate::eval::{EmptyScope, Evaluator};
use crate::value::Value;

fn eval(src: &str) -> Result<Value, String> {
    let e = hcl_edit::parser::parse_expr(src).map_err(|e| format!("parse: {}", e.message()))?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scope = EmptyScope(dir, true);
    Evaluator::new(&scope).eval(&e).map_err(|d| d.message)
}

/// (expression, expected JSON of the value, or "!" + a fragment of the error)
const CASES: &[(&str, &str)] = &[
    // literals and operators
    ("1 + 2 * 3", "7"),
    ("10 / 4", "2.5"),
    ("7 % 3", "1"),
    ("-5 % 3", "-2"),
    ("\"5\" + 1", "6"),
    ("1 == \"1\"", "false"),
    ("[1] == [1]", "true"),
    ("null == null", "true"),
    ("!true || false && true", "false"),
    ("1 < 2 ? \"a\" : \"b\"", "\"a\""),
    ("null ? 1 : 2", "!Null condition"),
    ("1 / 0", "!divide by zero"),
    ("true ? 1 : [2]", "!Inconsistent conditional result types"),
    ("\"a\" < \"b\"", "!number is required"),
    // collections, traversal, splat, for
    ("[1, 2, 3][1]", "2"),
    ("[1, 2][5]", "!Invalid index"),
    ("{ a = { b = [10, 20] } }.a.b[1]", "20"),
    ("{ a = 1 }.b", "!Unsupported attribute"),
    ("[{ n = 1 }, { n = 2 }][*].n", "[1,2]"),
    ("[{ n = 1 }, { n = 2 }].*.n", "[1,2]"),
    ("null[*]", "[]"),
    ("[for i in [1, 2, 3] : i * 2 if i != 2]", "[2,6]"),
    ("{ for k, v in { a = 1, b = 2 } : v => k }", "{\"1\":\"a\",\"2\":\"b\"}"),
    ("{ for s in [\"a\", \"b\", \"a\"] : s => s... }", "{\"a\":[\"a\",\"a\"],\"b\":[\"b\"]}"),
    ("{ for s in [\"a\", \"a\"] : s => s }", "!Duplicate object key"),
    ("[for k, v in [\"x\", \"y\"] : \"${k}${v}\"]", "[\"0x\",\"1y\"]"),
    // templates
    ("\"a-${1 + 1}-b\"", "\"a-2-b\""),
    ("\"${[1]}\"", "[1]"),
    ("\"x${[1]}\"", "!Cannot include the given value in a string template"),
    ("\"x${null}\"", "!The expression result is null"),
    ("\"$${a} %%{b}\"", "\"${a} %{b}\""),
    ("\"%{ for x in [1, 2] }<${x}>%{ endfor }\"", "\"<1><2>\""),
    ("\"a %{~ if true ~} b %{~ else ~} c %{~ endif ~} d\"", "\"abd\""),
    ("\"%{ if false }y%{ else }n%{ endif }\"", "\"n\""),
    // numeric functions
    ("abs(-2.5)", "2.5"),
    ("ceil(1.1)", "2"),
    ("floor(-1.1)", "-2"),
    ("log(8, 2)", "3"),
    ("max(1, 9, 3)", "9"),
    ("min([4, 2]...)", "2"),
    ("parseint(\"ff\", 16)", "255"),
    ("parseint(\"zz\", 10)", "!cannot parse"),
    ("pow(2, 8)", "256"),
    ("signum(-3)", "-1"),
    ("sum([1, 2.5])", "3.5"),
    ("sum([])", "!cannot sum an empty list"),
    // string functions
    ("chomp(\"a\\n\\r\\n\")", "\"a\""),
    ("endswith(\"abc\", \"bc\")", "true"),
    ("format(\"%s=%d %.2f %5s|%-3s| %q %t %x %%\", \"a\", 3, 3.14159, \"r\", \"l\", \"q\", true, 255)", "\"a=3 3.14     r|l  | \\\"q\\\" true ff %\""),
    ("format(\"%d\", 1.5)", "!integer"),
    ("formatlist(\"%s-%s\", [\"a\", \"b\"], \"x\")", "[\"a-x\",\"b-x\"]"),
    ("indent(2, \"a\\nb\")", "\"a\\n  b\""),
    ("join(\"-\", [\"a\", \"b\"], [\"c\"])", "\"a-b-c\""),
    ("lower(\"AbC\")", "\"abc\""),
    ("upper(\"abc\")", "\"ABC\""),
    ("regex(\"([a-z]+)([0-9]+)\", \"ab12\")", "[\"ab\",\"12\"]"),
    ("regex(\"(?P<x>[0-9]+)\", \"a12\")", "{\"x\":\"12\"}"),
    ("regex(\"[0-9]\", \"abc\")", "!did not match"),
    ("regexall(\"[0-9]\", \"a1b2\")", "[\"1\",\"2\"]"),
    ("replace(\"a-b\", \"-\", \"+\")", "\"a+b\""),
    ("replace(\"a12b3\", \"/[0-9]+/\", \"#\")", "\"a#b#\""),
    ("split(\",\", \"a,,b\")", "[\"a\",\"\",\"b\"]"),
    ("startswith(\"abc\", \"ab\")", "true"),
    ("strcontains(\"abc\", \"d\")", "false"),
    ("strrev(\"abc\")", "\"cba\""),
    ("substr(\"hello\", 1, 3)", "\"ell\""),
    ("substr(\"hello\", -3, -1)", "\"llo\""),
    ("title(\"hello world\")", "\"Hello World\""),
    ("trim(\"?!a?!\", \"!?\")", "\"a\""),
    ("trimprefix(\"abc\", \"ab\")", "\"c\""),
    ("trimsuffix(\"abc\", \"bc\")", "\"a\""),
    ("trimspace(\" a \\n\")", "\"a\""),
    // collection functions
    ("alltrue([true, \"true\"])", "true"),
    ("anytrue([])", "false"),
    ("chunklist([1, 2, 3], 2)", "[[1,2],[3]]"),
    ("coalesce(null, \"\", \"x\")", "\"x\""),
    ("coalesce(null)", "!no non-null"),
    ("coalescelist([], [1])", "[1]"),
    ("compact([\"a\", \"\", null])", "[\"a\"]"),
    ("concat([1], [2, \"x\"])", "[1,2,\"x\"]"),
    ("contains([\"a\"], \"a\")", "true"),
    ("distinct([1, 2, 1])", "[1,2]"),
    ("element([1, 2, 3], 4)", "2"),
    ("element([], 0)", "!empty list"),
    ("flatten([[1, [2]], [], 3])", "[1,2,3]"),
    ("index([\"a\", \"b\"], \"b\")", "1"),
    ("index([\"a\"], \"z\")", "!item not found"),
    ("keys({ b = 1, a = 2 })", "[\"a\",\"b\"]"),
    ("length(\"héllo\")", "5"),
    ("length({ a = 1 })", "1"),
    ("length(1)", "!argument must be a string, a collection type, or a structural type"),
    ("lookup({ a = 1 }, \"a\")", "1"),
    ("lookup({ a = 1 }, \"b\", 9)", "9"),
    ("lookup({ a = 1 }, \"b\")", "!the given object has no attribute \"b\""),
    ("merge({ a = 1, b = 1 }, null, { b = 2 })", "{\"a\":1,\"b\":2}"),
    ("one([])", "null"),
    ("one([1, 2])", "!either zero or one elements"),
    ("range(3)", "[0,1,2]"),
    ("range(0, 10, 4)", "[0,4,8]"),
    ("range(3, 0)", "[3,2,1]"),
    ("reverse([1, 2])", "[2,1]"),
    ("setintersection([\"a\", \"b\"], [\"b\", \"c\"])", "[\"b\"]"),
    ("setproduct([\"a\"], [1, 2])", "[[\"a\",1],[\"a\",2]]"),
    ("setsubtract([\"a\", \"b\"], [\"a\"])", "[\"b\"]"),
    ("setunion([\"b\"], [\"a\", \"b\"])", "[\"a\",\"b\"]"),
    ("slice([1, 2, 3], 1, 3)", "[2,3]"),
    ("slice([1], 0, 5)", "!end_index"),
    ("sort([\"b\", \"a\", \"10\", \"9\"])", "[\"10\",\"9\",\"a\",\"b\"]"),
    ("transpose({ a = [\"x\"], b = [\"x\", \"y\"] })", "{\"x\":[\"a\",\"b\"],\"y\":[\"b\"]}"),
    ("values({ b = 2, a = 1 })", "[1,2]"),
    ("zipmap([\"a\", \"b\"], [1, 2])", "{\"a\":1,\"b\":2}"),
    // encoding
    ("base64encode(\"hi\")", "\"aGk=\""),
    ("base64decode(\"aGk=\")", "\"hi\""),
    ("base64decode(\"!!\")", "!failed to decode base64"),
    ("jsonencode({ b = [1, \"<x>\"], a = null })", "\"{\\\"a\\\":null,\\\"b\\\":[1,\\\"\\\\u003cx\\\\u003e\\\"]}\""),
    ("jsondecode(\"{\\\"a\\\": [1, true]}\")", "{\"a\":[1,true]}"),
    ("jsondecode(\"{\")", "!failed: EOF"),
    ("urlencode(\"a b&c\")", "\"a+b%26c\""),
    ("yamlencode({ a = \"x\", b = [1, 2], c = { d = true }, e = [] })", "\"\\\"a\\\": \\\"x\\\"\\n\\\"b\\\":\\n- 1\\n- 2\\n\\\"c\\\":\\n  \\\"d\\\": true\\n\\\"e\\\": []\\n\""),
    ("csvdecode(\"a,b\\n1,\\\"x,y\\\"\\n\")", "[{\"a\":\"1\",\"b\":\"x,y\"}]"),
    ("textencodebase64(\"hi\", \"UTF-16LE\")", "\"aABpAA==\""),
    // network
    ("cidrhost(\"10.0.0.0/24\", 5)", "\"10.0.0.5\""),
    ("cidrhost(\"10.0.0.0/24\", -1)", "\"10.0.0.255\""),
    ("cidrhost(\"10.0.0.0/30\", 9)", "!does not accommodate a host numbered 9"),
    ("cidrnetmask(\"10.0.0.0/12\")", "\"255.240.0.0\""),
    ("cidrsubnet(\"10.0.0.0/16\", 8, 3)", "\"10.0.3.0/24\""),
    ("cidrsubnet(\"10.0.0.0/16\", 8, 256)", "!does not accommodate a subnet numbered 256"),
    ("cidrsubnet(\"fd00::/48\", 16, 1)", "\"fd00:0:0:1::/64\""),
    ("cidrsubnets(\"10.0.0.0/16\", 4, 4, 8)", "[\"10.0.0.0/20\",\"10.0.16.0/20\",\"10.0.32.0/24\"]"),
    ("cidrsubnet(\"nope\", 1, 1)", "!invalid CIDR"),
    // hashes
    ("md5(\"a\")", "\"0cc175b9c0f1b6a831c399e269772661\""),
    ("sha1(\"a\")", "\"86f7e437faa5a7fce15d1ddcb9eaeaea377667b8\""),
    ("sha256(\"a\")", "\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\""),
    ("base64sha256(\"a\")", "\"ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=\""),
    // conversion
    ("tobool(\"true\")", "true"),
    ("tobool(\"yes\")", "!only the strings"),
    ("tonumber(\"1.5\")", "1.5"),
    ("tonumber(\"x\")", "!cannot convert"),
    ("tostring(5)", "\"5\""),
    ("tostring([1])", "!cannot convert"),
    ("tolist([\"a\", 1])", "[\"a\",\"1\"]"),
    ("tolist([\"a\", [1]])", "!cannot convert"),
    ("toset([\"b\", \"a\", \"b\"])", "[\"a\",\"b\"]"),
    ("tomap({ a = 1, b = \"x\" })", "{\"a\":\"1\",\"b\":\"x\"}"),
    ("can(regex(\"x\", \"y\"))", "false"),
    ("can(1 + 1)", "true"),
    ("try({}.a, \"fallback\")", "\"fallback\""),
    ("nonsensitive(sensitive(1))", "1"),
    ("file(\"Cargo.toml\") != \"\"", "true"),
    ("fileexists(\"no-such-file\")", "false"),
    ("file(\"no-such-file\")", "!no file exists"),
    ("nosuchfunction(1)", "!Call to unknown function"),
    ("upper(1, 2)", "!Too many function arguments: Function \"upper\" expects only 1 argument(s)"),
    ("upper()", "!Not enough function arguments: Function \"upper\" expects 1 argument(s). Missing value for \"str\""),
    ("core::upper(\"a\")", "\"A\""),
    ("startswith(\"x: ${uuid()}\", \"x:\")", "true"),
    ("startswith(\"x: ${uuid()}\", \"y\")", "false"),
    ("(timestamp() == \"a\") != null", "true"),
    ("\"x: ${uuid()}\" == \"x\"", "false"),
    ("formatdate(\"DD MMM YYYY\", \"2018-01-02T23:12:01Z\")", "\"02 Jan 2018\""),
    ("cidrsubnet(\"010.255.255.255/08\", 0, 0)", "\"10.0.0.0/8\""),
    ("startswith(\"x\", 1, 2)", "!Too many function arguments"),
    ("provider::aws::arn_parse(\"x\")", "!provider function"),
];

#[test]
fn expressions_and_functions() {
    let mut failures = Vec::new();
    for (src, want) in CASES {
        let got = eval(src);
        let ok = match (want.strip_prefix('!'), &got) {
            (Some(frag), Err(msg)) => msg.contains(frag),
            (None, Ok(v)) => serde_json::to_string(&v.to_json()).ok().as_deref() == Some(*want),
            _ => false,
        };
        if !ok {
            let got = got.map(|v| v.to_json().to_string());
            failures.push(format!("{src}\n   want {want}\n   got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

/// (expression, whether the result is wholly known)
const UNKNOWN_CASES: &[(&str, bool)] = &[
    ("timestamp()", false),
    ("uuid() == \"x\"", false),
    ("length([uuid(), 1])", true),
    ("timestamp() == timestamp() ? 1 : 2", false),
    ("\"a-${uuid()}\"", false),
    ("upper(uuid())", false),
    ("false && uuid() == \"x\"", true),
    ("true || uuid() == \"x\"", true),
    ("[for x in [1] : uuid()]", false),
    ("concat([uuid()], [1])", false),
    ("length(concat([uuid()], [1]))", true),
    ("merge({ a = uuid() }, { b = 1 }).b", true),
    ("keys({ a = uuid() })", true),
    ("jsonencode({ a = uuid() })", false),
];

#[test]
fn unknowns_propagate_like_terraform() {
    let mut failures = Vec::new();
    for (src, known) in UNKNOWN_CASES {
        match eval(src) {
            Ok(v) if v.is_wholly_known() == *known => {}
            other => failures.push(format!("{src}: want known={known}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sensitive_marks_flow_through_operations() {
    for src in ["sensitive(\"a\") == \"a\"", "upper(sensitive(\"a\"))", "\"x${sensitive(1)}\"", "[for x in sensitive([1]) : x]"] {
        let v = eval(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(v.has_sensitive_deep(), "{src} lost its sensitive mark");
    }
    let v = eval("{ a = sensitive(1), b = 2 }").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.sensitive_as_bool(), serde_json::json!({"a": true}));
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn render(files: &[(&str, &str)], opts: &crate::RenderOptions) -> Result<serde_json::Value, crate::RenderError> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), files);
    let opts = crate::RenderOptions {
        var_files: opts.var_files.iter().map(|f| dir.path().join(f)).collect(),
        vars: opts.vars.clone(),
        schema: opts.schema.clone(),
        instance_sources: opts.instance_sources.clone(),
        within: opts.within.clone(),
    };
    crate::render_dir(dir.path(), &opts)
}

#[test]
fn variable_precedence() {
    let files = [
        ("main.tf", "variable \"v\" { default = \"default\" }\noutput \"v\" { value = var.v }\n"),
        ("terraform.tfvars", "v = \"tfvars\"\n"),
        ("a.auto.tfvars", "v = \"auto-a\"\n"),
        ("b.auto.tfvars", "v = \"auto-b\"\n"),
        ("x.tfvars", "v = \"file-x\"\n"),
        ("y.tfvars", "v = \"file-y\"\n"),
    ];
    let out = |opts: crate::RenderOptions, n: usize| {
        let plan = render(&files[..n], &opts).unwrap_or_else(|e| panic!("{e}"));
        plan["variables"]["v"]["value"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(out(Default::default(), 1), "default");
    assert_eq!(out(Default::default(), 2), "tfvars");
    assert_eq!(out(Default::default(), 4), "auto-b");
    let files_opt = crate::RenderOptions { var_files: vec!["y.tfvars".into(), "x.tfvars".into()], ..Default::default() };
    assert_eq!(out(files_opt, 6), "file-x");
    let cli = crate::RenderOptions { var_files: vec!["x.tfvars".into()], vars: vec![("v".into(), "cli".into())], ..Default::default() };
    assert_eq!(out(cli, 6), "cli");
}

/// An instance source renders one `for_each` instance of a root call from another module
/// directory at its usual address; the other instances keep the call's module. A module that
/// does not take the call's arguments, or a key the call has no instance of, is an error.
#[test]
fn an_instance_source_renders_one_instance_from_other_module_code() {
    let files = [
        ("root/main.tf", "module \"svc\" {\n  source   = \"../m/new\"\n  for_each = toset([\"a\", \"b\"])\n  name     = each.key\n}\noutput \"v\" { value = { for k, m in module.svc : k => m.v } }\n"),
        ("m/new/main.tf", "variable \"name\" {}\noutput \"v\" { value = \"new-${var.name}\" }\nresource \"terraform_data\" \"x\" { input = var.name }\n"),
        ("m/old/main.tf", "variable \"name\" {}\noutput \"v\" { value = \"old-${var.name}\" }\nresource \"terraform_data\" \"x\" { input = var.name }\n"),
        ("m/narrow/main.tf", "output \"v\" { value = \"x\" }\n"),
    ];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), &files);
    let root = dir.path().join("root");
    let with = |key: &str, source: &str| crate::RenderOptions {
        instance_sources: vec![crate::InstanceSource { call_source: "../m/new".into(), key: key.into(), source: source.into(), call_suffix: String::new() }],
        ..Default::default()
    };
    let plan = crate::render_dir(&root, &with("b", "../m/old")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan["planned_values"]["outputs"]["v"]["value"], serde_json::json!({"a": "new-a", "b": "old-b"}));
    let plain = crate::render_dir(&root, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let addrs = |p: &serde_json::Value| -> Vec<String> {
        p["resource_changes"].as_array().into_iter().flatten().map(|r| r["address"].as_str().unwrap_or_default().to_string()).collect()
    };
    assert_eq!(addrs(&plan), addrs(&plain));
    let e = crate::render_dir(&root, &with("b", "../m/narrow")).unwrap_err().to_string();
    assert!(e.contains("An argument named \"name\" is not expected by ../m/narrow"), "{e}");
    let e = crate::render_dir(&root, &with("c", "../m/old")).unwrap_err().to_string();
    assert!(e.contains("module.svc has no instance \"c\""), "{e}");
}

/// `within` confines every module a render loads: a call or instance source that leaves the
/// directory (`..` past it, or a symbolic link out of it) is an error naming the call; without
/// `within` the same configuration renders.
#[test]
fn a_module_outside_within_is_refused() {
    let files = [
        ("outside/m/main.tf", "output \"v\" { value = \"x\" }\n"),
        ("tree/m/main.tf", "output \"v\" { value = \"x\" }\n"),
        ("tree/env/main.tf", "module \"ok\" {\n  source = \"../m\"\n}\nmodule \"far\" {\n  source = \"../../outside/m\"\n}\n"),
        ("tree/env3/main.tf", "module \"ok\" {\n  source = \"../m\"\n  for_each = toset([\"a\"])\n}\n"),
        ("tree/env2/main.tf", "module \"ok\" {\n  source = \"../m\"\n  for_each = toset([\"a\"])\n}\nmodule \"linked\" {\n  source = \"../link\"\n}\n"),
    ];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), &files);
    std::os::unix::fs::symlink(dir.path().join("outside/m"), dir.path().join("tree/link")).unwrap_or_else(|e| panic!("{e}"));
    let tree = dir.path().join("tree");
    let within = crate::RenderOptions { within: Some(tree.clone()), ..Default::default() };
    crate::render_dir(&tree.join("env"), &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let e = crate::render_dir(&tree.join("env"), &within).unwrap_err().to_string();
    assert!(e.contains("main.tf:4:1") && e.contains("module \"far\"") && e.contains("outside"), "{e}");
    let e = crate::render_dir(&tree.join("env2"), &within).unwrap_err().to_string();
    assert!(e.contains("module \"linked\"") && e.contains("outside"), "{e}");
    let instance = crate::RenderOptions {
        instance_sources: vec![crate::InstanceSource { call_source: "../m".into(), key: "a".into(), source: "../../outside/m".into(), call_suffix: String::new() }],
        ..within.clone()
    };
    crate::render_dir(&tree.join("env3"), &within).unwrap_or_else(|e| panic!("{e}"));
    let e = crate::render_dir(&tree.join("env3"), &instance).unwrap_err().to_string();
    assert!(e.contains("module.ok[\"a\"] renders from") && e.contains("outside"), "{e}");
}

/// (files, expected error fragment including the place)
const ERROR_CASES: &[(&str, &str, &str)] = &[
    ("main.tf", "variable \"v\" {}\n", "main.tf:1:1: No value for required variable"),
    ("main.tf", "variable \"v\" {\n  type = number\n  default = \"x\"\n}\n", "main.tf:3:13: Invalid default value for variable"),
    (
        "main.tf",
        "variable \"v\" {\n  default = \"ab\"\n  validation {\n    condition     = length(var.v) > 3\n    error_message = \"Too short.\"\n  }\n}\n",
        "main.tf:1:1: Invalid value for variable: Too short.\n\nThis was checked by the validation rule at main.tf:3,3-13.",
    ),
    ("main.tf", "locals {\n  a = local.b\n  b = local.a\n}\n", "Cycle: local.a (expand), local.b (expand)"),
    ("main.tf", "output \"o\" { value = sensitive(\"x\") }\n", "main.tf:1:1: Output refers to sensitive values"),
    ("main.tf", "resource \"terraform_data\" \"a\" {\n  count = -1\n}\n", "main.tf:2:11: Invalid count argument"),
    ("main.tf", "resource \"terraform_data\" \"a\" {\n  for_each = [\"a\"]\n}\n", "main.tf:2:14: Invalid for_each argument"),
    ("main.tf", "resource \"terraform_data\" \"a\" {\n  bogus = 1\n}\n", "main.tf:2:3: Unsupported argument"),
    ("main.tf", "locals {\n  x = 1 +\n}\n", "main.tf:2:10: Invalid HCL syntax"),
    ("main.tf", "output \"o\" { value = var.nope }\n", "main.tf:1:22: Reference to undeclared input variable"),
    ("main.tf", "module \"m\" { source = \"hashicorp/x/aws\" }\n", "main.tf:1:1: Module not installed: This module is not yet installed. Run \"terraform init\""),
    (
        "main.tf",
        "resource \"terraform_data\" \"a\" {\n  lifecycle {\n    precondition {\n      condition     = 1 == 2\n      error_message = \"Nope.\"\n    }\n  }\n}\n",
        "main.tf:4:23: Resource precondition failed: Nope.",
    ),
    ("main.tf", "locals {\n  x = timestamp()\n}\nresource \"terraform_data\" \"a\" {\n  count = length(local.x)\n}\n", "main.tf:5:11: Invalid count argument"),
];

#[test]
fn errors_name_file_line_and_column() {
    let mut failures = Vec::new();
    for (name, text, want) in ERROR_CASES {
        match render(&[(name, text)], &Default::default()) {
            Ok(_) => failures.push(format!("{text}: rendered without error, want {want:?}")),
            Err(e) => {
                let s = e.to_string();
                let file_part = s.rsplit('/').next().unwrap_or(&s).to_string();
                if !file_part.contains(want) && !s.contains(want) {
                    failures.push(format!("{text}: want {want:?}, got {s:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tfvars_errors_have_places() {
    let files = [("main.tf", "variable \"v\" { type = number }\n"), ("terraform.tfvars", "v = \"abc\"\n")];
    let e = render(&files, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("terraform.tfvars:1:1: Invalid value for input variable"), "{e}");
    let files = [("main.tf", "variable \"v\" {}\n"), ("terraform.tfvars", "v = [\n")];
    let e = render(&files, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("terraform.tfvars:") && e.contains("Invalid HCL syntax"), "{e}");
    let files = [("main.tf", "variable \"v\" {}\n"), ("terraform.tfvars", "v = upper(\"x\")\n")];
    let e = render(&files, &Default::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("terraform.tfvars:1:5: Function calls not allowed"), "{e}");
}

#[test]
fn addresses_and_unknown_marks() {
    let files = [
        (
            "main.tf",
            r#"
variable "obj" {
  type = object({ a = string, b = optional(number, 3), c = optional(object({ d = optional(bool, true) }), {}) })
  default = { a = "x" }
}
resource "terraform_data" "c" {
  count = 2
  input = { i = count.index, s = sensitive("x") }
}
resource "terraform_data" "e" {
  for_each = toset(["k"])
  input            = terraform_data.c[0].id
  triggers_replace = [each.key, terraform_data.c[1].output]
}
module "m" {
  source   = "./m"
  for_each = { one = 1 }
  n        = each.value
}
resource "aws_kms_key" "k" {
  description = "k"
}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = "b"
  rule {
    apply_server_side_encryption_by_default {
      kms_master_key_id = aws_kms_key.k.arn
    }
  }
}
output "obj" { value = var.obj }
"#,
        ),
        ("m/main.tf", "variable \"n\" { type = number }\nresource \"terraform_data\" \"r\" { input = var.n }\noutput \"o\" { value = terraform_data.r.output }\n"),
    ];
    let plan = render(&files, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let rc = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    let addrs: Vec<&str> = rc.iter().filter_map(|r| r["address"].as_str()).collect();
    assert_eq!(
        addrs,
        [
            "aws_kms_key.k",
            "aws_s3_bucket_server_side_encryption_configuration.b",
            "module.m[\"one\"].terraform_data.r",
            "terraform_data.c[0]",
            "terraform_data.c[1]",
            "terraform_data.e[\"k\"]"
        ]
    );
    let by = |a: &str| rc.iter().find(|r| r["address"] == a).cloned().unwrap_or_default();
    let c0 = by("terraform_data.c[0]");
    assert_eq!(c0["change"]["after"], serde_json::json!({"input": {"i": 0, "s": "x"}, "triggers_replace": null}));
    assert_eq!(c0["change"]["after_unknown"], serde_json::json!({"id": true, "input": {}, "output": true}));
    assert_eq!(c0["change"]["after_sensitive"], serde_json::json!({"input": {"s": true}, "output": {}}));
    let e = by("terraform_data.e[\"k\"]");
    assert_eq!(e["index"], "k");
    assert_eq!(e["change"]["after"], serde_json::json!({"triggers_replace": ["k", null]}));
    assert_eq!(e["change"]["after_unknown"], serde_json::json!({"id": true, "input": true, "output": true, "triggers_replace": [false, true]}));
    assert_eq!(by("module.m[\"one\"].terraform_data.r")["module_address"], "module.m[\"one\"]");
    let sse = by("aws_s3_bucket_server_side_encryption_configuration.b");
    assert_eq!(
        sse["change"]["after_unknown"]["rule"],
        serde_json::json!([{"apply_server_side_encryption_by_default": [{"kms_master_key_id": true}]}])
    );
    assert_eq!(plan["variables"]["obj"]["value"], serde_json::json!({"a": "x", "b": 3, "c": {"d": true}}));
    let cfg = &plan["configuration"]["root_module"]["resources"];
    let sse_cfg = cfg.as_array().and_then(|a| a.iter().find(|r| r["address"] == "aws_s3_bucket_server_side_encryption_configuration.b")).cloned().unwrap_or_default();
    assert_eq!(
        sse_cfg["expressions"]["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"]["references"],
        serde_json::json!(["aws_kms_key.k.arn", "aws_kms_key.k"])
    );
    let child = &plan["planned_values"]["root_module"]["child_modules"][0];
    assert_eq!(child["address"], "module.m[\"one\"]");
}

#[test]
fn references_in_terraform_form() {
    let cases: &[(&str, &[&str])] = &[
        ("aws_kms_key.this.arn", &["aws_kms_key.this.arn", "aws_kms_key.this"]),
        ("var.kms_key_arn", &["var.kms_key_arn"]),
        ("module.kms.key_arn", &["module.kms.key_arn", "module.kms"]),
        ("module.m[\"k\"].out", &["module.m[\"k\"].out", "module.m"]),
        ("aws_x.y[0].arn", &["aws_x.y[0].arn", "aws_x.y[0]", "aws_x.y"]),
        ("local.l[count.index]", &["local.l", "count.index"]),
        ("data.aws_iam_policy_document.p.json", &["data.aws_iam_policy_document.p.json", "data.aws_iam_policy_document.p"]),
        ("[for s in var.list : s.name]", &["var.list"]),
        ("\"${each.value.name}-x\"", &["each.value.name", "each.value"]),
        ("aws_x.y[*].id", &["aws_x.y"]),
    ];
    for (src, want) in cases {
        let e = hcl_edit::parser::parse_expr(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(crate::plan::references(&e), *want, "{src}");
    }
}

#[test]
fn heredocs_follow_hcl_indentation_and_strip_rules() {
    let tf = "locals {\n  a = <<-EOT\n    x\n    %{ for i in [1, 2] }\n    v${i}\n    %{ endfor }\n    y\n  EOT\n  b = <<-EOT\n    x\n    %{~ for i in [1, 2] ~}\n    v${i}\n    %{~ endfor ~}\n    y\n  EOT\n}\noutput \"a\" { value = local.a }\noutput \"b\" { value = local.b }\n";
    let plan = render(&[("main.tf", tf)], &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan["planned_values"]["outputs"]["a"]["value"], "x\n\nv1\n\nv2\n\ny\n");
    assert_eq!(plan["planned_values"]["outputs"]["b"]["value"], "    x\n    v1\n    v2\n    y\n");
}

#[test]
fn normalize_sorts_and_drops_volatile_fields() {
    let plan = serde_json::json!({
        "terraform_version": "1.15.5",
        "timestamp": "now",
        "format_version": "1.2",
        "resource_changes": [{"address": "b", "z": 1, "a": 2}, {"address": "a"}],
        "configuration": {},
        "prior_state": {}
    });
    let n = crate::normalize(&plan);
    assert_eq!(n, serde_json::json!({"format_version": "1.2", "resource_changes": [{"address": "a"}, {"a": 2, "address": "b", "z": 1}]}));
    let keys: Vec<&String> = n["resource_changes"][1].as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["a", "address", "z"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
    let r = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || eval(&deep).err().unwrap_or_default())
        .ok()
        .and_then(|h| h.join().ok())
        .unwrap_or_default();
    assert!(r.contains("nested too deeply") || r.contains("parse"), "{r}");
}
