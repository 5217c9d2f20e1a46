//! Property tests of the overlay invariants: generated overlays in (and just outside) the
//! allow-listed domain, rendered offline from `environments/`. Failing seeds are kept in
//! `crates/baseline/proptest-regressions/<property>.txt` and replayed first.
use std::path::PathBuf;

use lz_baseline::props::{self, Property, RunConfig};

const CASES: u32 = 256;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn holds(property: Property) {
    let root = root();
    match props::run(&root, property, &RunConfig::persisted(&root, property, CASES)) {
        Ok(n) => assert_eq!(n, CASES),
        Err(msg) => panic!("{msg}"),
    }
}

macro_rules! properties {
    ($($name:ident => $prop:expr,)*) => {$(
        #[test]
        fn $name() {
            holds($prop);
        }
    )*};
}

properties! {
    every_valid_overlay_renders_with_its_controls => Property::Renders,
    every_invalid_overlay_is_rejected_by_its_variable => Property::Rejects,
    environments_differ_only_where_the_allowlist_explains => Property::Invariance,
    prod_is_a_superset_of_dev_and_retention_never_decreases => Property::Superset,
    subnets_stay_inside_the_vpc_without_internet_routes => Property::Network,
    services_keep_ingress_tags_and_unique_names => Property::Services,
    rendering_is_deterministic => Property::Determinism,
}

#[test]
fn the_repository_environments_hold_every_invariant() {
    let found = props::check_environments(&root()).expect("rendering the environments");
    assert!(found.is_empty(), "{} violation(s):\n{}", found.len(), found.join("\n"));
}

/// The property suite renders from a configuration parsed once (`tfrender::Prepared`); every
/// environment and generated overlays (valid and invalid) render byte-identically, or fail
/// identically, on the prepared path and on a fresh load.
#[test]
fn prepared_renders_match_fresh_renders() {
    const OVERLAYS: u32 = 32;
    match props::prepared_matches_fresh(&root(), OVERLAYS) {
        Ok(n) => assert!(n >= 5 + 2 * OVERLAYS, "only {n} renders compared"),
        Err(msg) => panic!("{msg}"),
    }
}
