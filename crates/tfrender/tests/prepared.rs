//! The prepared path (`Prepared::load` once, `render` many times, `RenderCache`) gives the
//! same JSON, byte for byte, and the same errors as a fresh `render_dir` of every fixture under
//! `tests/render/`, rendered repeatedly and interleaved with other fixtures' renders.

#[allow(dead_code)]
#[path = "differential/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};

use fixture::Fixture;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn options(f: &Fixture) -> tfrender::RenderOptions {
    tfrender::RenderOptions {
        var_files: f.var_files.iter().map(|v| f.dir.join(v)).collect(),
        vars: f.vars.clone(),
        ..Default::default()
    }
}

/// The JSON text of a plan, or the error as printed with its kind.
fn shown(r: &Result<serde_json::Value, tfrender::RenderError>) -> String {
    match r {
        Ok(v) => serde_json::to_string(v).expect("plan serializes"),
        Err(e) => format!("error {:?}: {e}", e.kind),
    }
}

fn fixtures() -> Vec<Fixture> {
    let fixtures = fixture::discover(&repo_root().join("tests/render")).expect("fixtures");
    assert!(fixtures.len() >= 10, "expected the differential fixtures, found {}", fixtures.len());
    fixtures
}

#[test]
fn prepared_renders_equal_fresh_renders_for_every_fixture() {
    let fixtures = fixtures();
    let fresh: Vec<String> = fixtures.iter().map(|f| shown(&tfrender::render_dir(&f.dir, &options(f)))).collect();
    let prepared: Vec<Result<tfrender::Prepared, tfrender::RenderError>> =
        fixtures.iter().map(|f| tfrender::Prepared::load(&f.dir)).collect();
    let mut differ = Vec::new();
    // Two rounds over all fixtures: a render must not leave anything behind for the next one.
    for round in 0..2 {
        for ((f, p), want) in fixtures.iter().zip(&prepared).zip(&fresh) {
            let got = match p {
                Ok(p) => shown(&p.render(&options(f))),
                Err(e) => shown(&Err(e.clone())),
            };
            if &got != want {
                differ.push(format!("{} (round {round}):\n  fresh:    {want:.300}\n  prepared: {got:.300}", f.name));
            }
        }
    }
    assert!(differ.is_empty(), "{} difference(s):\n{}", differ.len(), differ.join("\n"));
}

#[test]
fn one_prepared_configuration_renders_different_variables_like_fresh_loads() {
    let root = repo_root();
    let dir = root.join("environments");
    let envs = ["dev", "test", "uat", "preprod", "prod"];
    let prepared = tfrender::Prepared::load(&dir).expect("environments/ loads");
    // The vendored provider schema, as every render of the repository uses it.
    let text = std::fs::read_to_string(root.join("schema/aws-provider.json")).expect("vendored schema");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("vendored schema is JSON");
    let schema = std::sync::Arc::new(tfrender::ProviderSchema::from_json(&doc).expect("vendored schema parses"));
    for (i, env) in envs.iter().chain(envs.iter().rev()).enumerate() {
        let opts = tfrender::RenderOptions {
            var_files: vec![dir.join(env).join("terraform.tfvars")],
            vars: vec![("environment".into(), (*env).into())],
            // Every other render with the schema: validation results are kept per schema.
            schema: (i % 2 == 0).then(|| schema.clone()),
            ..Default::default()
        };
        assert_eq!(shown(&prepared.render(&opts)), shown(&tfrender::render_dir(&dir, &opts)), "environment {env}");
    }
    // A bad value fails the same way on both paths, and the prepared value stays usable.
    let bad = tfrender::RenderOptions {
        var_files: Vec::new(),
        vars: vec![("vpc_cidr".into(), "not-a-cidr".into())],
        schema: Some(schema.clone()),
        ..Default::default()
    };
    let (a, b) = (shown(&prepared.render(&bad)), shown(&tfrender::render_dir(&dir, &bad)));
    assert!(a.starts_with("error "), "{a:.300}");
    assert_eq!(a, b);
}

#[test]
fn the_cache_loads_a_directory_once_and_renders_like_a_fresh_load() {
    let fixtures = fixtures();
    let f = fixtures.iter().find(|f| f.expect == fixture::Expect::Ok).expect("a fixture that renders");
    let cache = tfrender::RenderCache::new();
    let first = cache.prepared(&f.dir).expect("loads");
    let second = cache.prepared(&f.dir).expect("loads");
    assert!(std::sync::Arc::ptr_eq(&first, &second), "the second request reuses the first load");
    assert_eq!(shown(&cache.render_dir(&f.dir, &options(f))), shown(&tfrender::render_dir(&f.dir, &options(f))));
    let missing = repo_root().join("tests/render/no-such-fixture");
    assert!(cache.prepared(&missing).is_err());
}

#[test]
fn prepared_configurations_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<tfrender::Prepared>();
    shareable::<tfrender::RenderCache>();
}
