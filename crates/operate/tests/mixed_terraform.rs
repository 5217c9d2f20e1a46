//! Real Terraform on an environment whose services run different versions of one module (issue
//! 32): the terraform engine's working copy of the root (`lz_platform::mixed_root`) gives each
//! pinned version its own call and `moved` chains. A provider-free fixture (`terraform_data`
//! only) in the repository's layout, two services, three versions of their module, planned and
//! applied by the Terraform on PATH through the harness ([`lz_platform::tools::terraform`]),
//! wave after wave on one state: every plan's addresses, mapped back, are the offline renderer's,
//! each instance plans its own version's code as the offline renderer renders it, and moving a
//! service between versions updates it in place (never a destroy and create).
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lz_platform::tfrun::{Plan, TfDir};
use serde_json::Value;

fn root() -> PathBuf {
    common::root()
}

fn module(version: &str) -> String {
    format!(
        "variable \"name\" {{\n  type = string\n}}\nvariable \"port\" {{\n  type = number\n}}\n\
         resource \"terraform_data\" \"this\" {{\n  input = \"${{var.name}}:${{var.port}}:{version}\"\n}}\n\
         output \"id\" {{\n  value = \"${{var.name}}-{version}\"\n}}\n\
         resource \"terraform_data\" \"code\" {{\n  input = \"{version}\"\n}}\n"
    )
}

const ROOT: &str = r#"variable "services" {
  type = map(object({ port = number }))
}

module "service" {
  source   = "../modules/svc"
  for_each = var.services

  name = each.key
  port = each.value.port
}

# Waits for every service, whichever version it runs.
resource "terraform_data" "after" {
  input      = length(module.service)
  depends_on = [module.service]
}

output "ids" {
  value = { for k, s in module.service : k => s.id }
}
"#;

/// The fixture: `svc` at 1.1.0 in `modules/`, its released copies 1.0.0 and 0.9.0, and
/// environment prod running services a and b.
fn tree(dir: &Path) {
    let w = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "modules/catalog.toml",
        "[modules.svc]\nversion = \"1.1.0\"\nowner = \"t\"\nrisk = \"low\"\ndescription = \"d\"\nsha256 = \"x\"\n\n\
         [modules.svc.released]\n\"0.9.0\" = \"h\"\n\"1.0.0\" = \"h\"\n",
    );
    w("modules/svc/main.tf", &module("1.1.0"));
    w("released/svc/1.0.0/main.tf", &module("1.0.0"));
    w("released/svc/0.9.0/main.tf", &module("0.9.0"));
    w("environments/main.tf", ROOT);
    w("environments/prod/terraform.tfvars", "services = {\n  a = { port = 1 }\n  b = { port = 2 }\n}\n");
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::copy(root().join("schema/aws-provider.json"), dir.join("schema/aws-provider.json")).unwrap();
}

fn pin(tree: &Path, pins: &[(&str, &str)]) {
    let mut text = String::from("[pins.svc]\n");
    for (s, v) in pins {
        text.push_str(&format!("{s} = \"{v}\"\n"));
    }
    std::fs::write(tree.join("environments/prod/pins.toml"), text).unwrap();
}

/// The offline plan of prod, as every render of an environment makes it.
fn offline(tree: &Path) -> Value {
    let opts = lz_schema::env_render_options(tree, "prod").unwrap();
    tfrender::render_dir(&tree.join("environments"), &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn changes(plan: &Value) -> Vec<&Value> {
    plan["resource_changes"].as_array().unwrap().iter().collect()
}

fn addresses(plan: &Value) -> BTreeSet<String> {
    changes(plan).iter().map(|r| r["address"].as_str().unwrap().to_string()).collect()
}

fn input_of<'a>(plan: &'a Value, service: &str) -> &'a Value {
    let addr = format!("module.service[\"{service}\"].terraform_data.this");
    &changes(plan).into_iter().find(|r| r["address"] == addr.as_str()).unwrap_or_else(|| panic!("{addr} not in the plan"))["change"]["after"]["input"]
}

/// One wave: a fresh working copy of the tree, the state the last wave left, the root rewritten,
/// `terraform plan`, checked against the offline plan, applied. Returns the raw and mapped plan.
fn wave(tree: &Path, work: &Path, state: &Path, tf: &lz_platform::tools::Terraform) -> (Value, Value) {
    let _ = std::fs::remove_dir_all(work);
    for d in ["environments", "modules", "released"] {
        lz_operate::engine::copy_tree(&tree.join(d), &work.join(d)).unwrap();
    }
    let dir = work.join("environments");
    if state.exists() {
        std::fs::copy(state, dir.join("terraform.tfstate")).unwrap();
    }
    let want = offline(tree);
    // As the engine does: chains also from where the state holds instances.
    let held: Option<Value> = state.exists().then(|| serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap());
    let mapping = lz_platform::mixed_root::write_held(tree, "prod", &dir, &want, held.as_ref()).unwrap_or_else(|e| panic!("{e:#}"));
    let t = TfDir::new(tf, &dir);
    t.init(&[]).unwrap_or_else(|e| panic!("{e:#}"));
    let vars = format!("-var-file={}", tree.join("environments/prod/terraform.tfvars").display());
    match t.plan(&["-out=tfplan".to_string(), vars.clone()]).unwrap() {
        Plan::Changes(_) | Plan::NoChanges(_) => {}
        Plan::Failed(out) => panic!("terraform plan failed on\n{}\n{}", std::fs::read_to_string(dir.join(lz_platform::mixed_root::FILE)).unwrap(), out.text()),
    }
    let shown = t.show("tfplan").unwrap();
    assert_eq!(mapping.unplanned_deletes(&shown.resource_changes, &want), Vec::<String>::new(), "no destroy the offline plan lacks");
    let raw = shown.json;
    let mut got = raw.clone();
    mapping.plan(&mut got);
    assert_eq!(addresses(&got), addresses(&want), "Terraform's addresses, mapped, are the offline plan's");
    for s in ["a", "b"] {
        assert_eq!(input_of(&got, s), input_of(&want, s), "{s} plans the code the offline renderer renders for it");
    }
    assert_eq!(got["output_changes"]["ids"]["after"], want["output_changes"]["ids"]["after"], "the outputs over every version call");
    // The configuration section: the calls Terraform shows, each with its own source and code.
    let calls = |plan: &Value| plan["configuration"]["root_module"]["module_calls"].as_object().unwrap().clone();
    let (tf_calls, offline_calls) = (calls(&raw), calls(&want));
    assert_eq!(tf_calls.keys().collect::<Vec<_>>(), offline_calls.keys().collect::<Vec<_>>(), "the module calls of the configuration");
    for (name, c) in &tf_calls {
        // The whole entry: source, arguments, for_each, and the module's code.
        assert_eq!(c, &offline_calls[name], "{name}: Terraform's configuration entry and the offline one");
    }
    // The root's own expressions are the release's, offline; Terraform shows the rewritten ones,
    // whose references add the version calls in use after the call (README, "Mixed versions with
    // real Terraform").
    let refs = |plan: &Value| plan["configuration"]["root_module"]["outputs"]["ids"]["expression"]["references"].clone();
    let mut with_versions = vec![Value::from("module.service")];
    with_versions.extend(tf_calls.keys().filter(|k| k.starts_with("service_v")).map(|k| Value::from(format!("module.{k}"))));
    assert_eq!(refs(&want), serde_json::json!(["module.service"]));
    assert_eq!(refs(&raw), Value::Array(with_versions), "Terraform's references of the rewritten output");
    let out = t.apply(&["-auto-approve".to_string(), "-input=false".into(), vars.clone()]).unwrap();
    assert!(out.success(), "terraform apply failed:\n{}", out.text());
    std::fs::copy(dir.join("terraform.tfstate"), state).unwrap();
    // Applied, the same root plans nothing more.
    assert!(matches!(t.plan(&[vars]).unwrap(), Plan::NoChanges(_)), "a second plan of the wave changes nothing");
    (raw, got)
}

/// No resource of the plan is created or destroyed; returns the (raw) module instances that moved.
fn moved_in_place(raw: &Value) -> BTreeSet<(String, String)> {
    let mut moved = BTreeSet::new();
    for rc in changes(raw) {
        let actions = rc["change"]["actions"].as_array().unwrap();
        assert!(actions.iter().all(|a| a == "update" || a == "no-op"), "{} plans {actions:?}", rc["address"]);
        if let Some(prev) = rc["previous_address"].as_str() {
            let instance = |a: &str| a[..a.find("].").unwrap() + 1].to_string();
            moved.insert((instance(prev), instance(rc["address"].as_str().unwrap())));
        }
    }
    moved
}

#[test]
fn terraform_plans_each_pinned_service_from_its_own_version_at_the_offline_addresses_and_moves_it_in_place() {
    let tf = lz_platform::tools::terraform(&root()).unwrap_or_else(|e| panic!("terraform: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let (t, work, state) = (tmp.path().join("tree"), tmp.path().join("work"), tmp.path().join("terraform.tfstate"));
    tree(&t);
    let addr = |call: &str, s: &str| format!("module.{call}[\"{s}\"]");

    // Before the rollout: every service on the catalog's version, created.
    let (raw, _) = wave(&t, &work, &state, &tf);
    assert!(changes(&raw).iter().all(|r| r["change"]["actions"] == serde_json::json!(["create"])));
    assert_eq!(input_of(&offline(&t), "a"), "a:1:1.1.0");

    // a pinned to 1.0.0: planned under its version call, moved there, updated in place.
    pin(&t, &[("a", "1.0.0")]);
    let (raw, got) = wave(&t, &work, &state, &tf);
    assert_eq!(input_of(&got, "a"), "a:1:1.0.0");
    assert_eq!(input_of(&got, "b"), "b:2:1.1.0");
    assert_eq!(moved_in_place(&raw), BTreeSet::from([(addr("service", "a"), addr("service_v1_0_0", "a"))]));
    assert!(changes(&got).iter().all(|r| r.get("previous_address").is_none()), "no move offline");
    let calls = raw["configuration"]["root_module"]["module_calls"].as_object().unwrap();
    assert_eq!(calls["service_v1_0_0"]["source"], "../released/svc/1.0.0");
    assert_eq!(calls["service"]["source"], "../modules/svc");
    let code = |call: &str| {
        let c = &offline(&t)["configuration"]["root_module"]["module_calls"][call]["module"]["resources"];
        c.as_array().unwrap().iter().find(|r| r["address"] == "terraform_data.code").unwrap()["expressions"]["input"]["constant_value"].clone()
    };
    assert_eq!((code("service"), code("service_v1_0_0")), (serde_json::json!("1.1.0"), serde_json::json!("1.0.0")), "each version's own code");

    // Three versions at once: a to 0.9.0, b to 1.0.0 (chains through every version call).
    pin(&t, &[("a", "0.9.0"), ("b", "1.0.0")]);
    let (raw, got) = wave(&t, &work, &state, &tf);
    assert_eq!((input_of(&got, "a").as_str(), input_of(&got, "b").as_str()), (Some("a:1:0.9.0"), Some("b:2:1.0.0")));
    assert_eq!(
        moved_in_place(&raw),
        BTreeSet::from([(addr("service_v1_0_0", "a"), addr("service_v0_9_0", "a")), (addr("service", "b"), addr("service_v1_0_0", "b"))])
    );

    // The last wave unpins everyone: both come back to the call's own source, in place.
    std::fs::remove_file(t.join("environments/prod/pins.toml")).unwrap();
    let (raw, got) = wave(&t, &work, &state, &tf);
    assert_eq!((input_of(&got, "a").as_str(), input_of(&got, "b").as_str()), (Some("a:1:1.1.0"), Some("b:2:1.1.0")));
    assert_eq!(
        moved_in_place(&raw),
        BTreeSet::from([(addr("service_v0_9_0", "a"), addr("service", "a")), (addr("service_v1_0_0", "b"), addr("service", "b"))])
    );
}

/// A release that drops a released copy while the state still holds a service under its
/// version call (the release that unpins it): the chain starts where the state holds it, so the
/// service comes back to the call's own source in place, never destroyed and created. Here the
/// catalog records no released copy at all any more.
#[test]
fn dropping_a_released_version_the_state_still_holds_moves_its_services_in_place() {
    let tf = lz_platform::tools::terraform(&root()).unwrap_or_else(|e| panic!("terraform: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let (t, work, state) = (tmp.path().join("tree"), tmp.path().join("work"), tmp.path().join("terraform.tfstate"));
    tree(&t);
    pin(&t, &[("a", "1.0.0")]);
    wave(&t, &work, &state, &tf);
    // The next release unpins a and drops every released copy from its catalog and its tree.
    std::fs::remove_file(t.join("environments/prod/pins.toml")).unwrap();
    std::fs::write(
        t.join("modules/catalog.toml"),
        "[modules.svc]\nversion = \"1.1.0\"\nowner = \"t\"\nrisk = \"low\"\ndescription = \"d\"\nsha256 = \"x\"\n",
    )
    .unwrap();
    std::fs::remove_dir_all(t.join("released/svc/1.0.0")).unwrap();
    // Chains from the catalog alone (no state): Terraform destroys a's resources under
    // service_v1_0_0 and creates them under service; the promotion's check names those deletes.
    let blind = tmp.path().join("blind");
    for d in ["environments", "modules", "released"] {
        lz_operate::engine::copy_tree(&t.join(d), &blind.join(d)).unwrap();
    }
    let dir = blind.join("environments");
    std::fs::copy(&state, dir.join("terraform.tfstate")).unwrap();
    let want = offline(&t);
    let mapping = lz_platform::mixed_root::write(&t, "prod", &dir, &want).unwrap();
    let b = TfDir::new(&tf, &dir);
    b.init(&[]).unwrap();
    let vars = format!("-var-file={}", t.join("environments/prod/terraform.tfvars").display());
    assert!(matches!(b.plan(&["-out=tfplan".to_string(), vars]).unwrap(), Plan::Changes(_)));
    let mut destroys = mapping.unplanned_deletes(&b.show("tfplan").unwrap().resource_changes, &want);
    destroys.sort();
    assert_eq!(
        destroys,
        ["module.service_v1_0_0[\"a\"].terraform_data.code (delete)", "module.service_v1_0_0[\"a\"].terraform_data.this (delete)"],
        "the destroy the offline plan does not show"
    );
    let (raw, got) = wave(&t, &work, &state, &tf);
    assert_eq!(input_of(&got, "a"), "a:1:1.1.0");
    let addr = |call: &str, s: &str| format!("module.{call}[\"{s}\"]");
    assert_eq!(moved_in_place(&raw), BTreeSet::from([(addr("service_v1_0_0", "a"), addr("service", "a"))]));
}

/// A second split call that references the first (`module.service["a"]` in its arguments), and
/// text that only looks like a reference (a string, a heredoc, a comment, `local.x.submodule.service`),
/// a `depends_on` list with an indexed resource and a comment: the working copy plans with real
/// Terraform, each copy of `edge` reads the service instance of its own key through the merged
/// calls, and the text is the release's.
const EDGE: &str = r#"module "edge" {
  source   = "../modules/svc"
  for_each = var.services

  name = module.service[each.key].id
  port = length(module.service)
}

locals {
  cfg = { submodule = { service = 7 } }
}

# depends_on = [ module.service ] in a comment is no list
resource "terraform_data" "pre" {
  count = 1
}

resource "terraform_data" "notes" {
  input = {
    note = "wraps module.service"
    doc  = <<-EOT
      module.service is the service call
    EOT
    ids  = [for k, s in module.service : s.id]
    deep = local.cfg.submodule.service
  }
  depends_on = [terraform_data.pre[0], # the services:
    module.service, module.edge]
}
"#;

#[test]
fn references_are_rewritten_in_code_only_and_in_every_copy_of_a_split_call() {
    let tf = lz_platform::tools::terraform(&root()).unwrap_or_else(|e| panic!("terraform: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("tree");
    tree(&t);
    std::fs::write(t.join("environments/edge.tf"), EDGE).unwrap();
    pin(&t, &[("a", "1.0.0")]);
    let work = tmp.path().join("work");
    for d in ["environments", "modules", "released"] {
        lz_operate::engine::copy_tree(&t.join(d), &work.join(d)).unwrap();
    }
    let dir = work.join("environments");
    let want = offline(&t);
    let mapping = lz_platform::mixed_root::write(&t, "prod", &dir, &want).unwrap_or_else(|e| panic!("{e:#}"));
    let generated = std::fs::read_to_string(dir.join(lz_platform::mixed_root::FILE)).unwrap();
    let edge = std::fs::read_to_string(dir.join("edge.tf")).unwrap();
    let b = TfDir::new(&tf, &dir);
    b.init(&[]).unwrap_or_else(|e| panic!("{e:#}"));
    let vars = format!("-var-file={}", t.join("environments/prod/terraform.tfvars").display());
    match b.plan(&["-out=tfplan".to_string(), vars]).unwrap() {
        Plan::Changes(_) => {}
        other => panic!("terraform plan of\n{edge}\n{generated}\n{}", match other { Plan::Failed(o) | Plan::NoChanges(o) => o.text(), _ => String::new() }),
    }
    let mut got = b.show("tfplan").unwrap().json;
    mapping.plan(&mut got);
    assert_eq!(addresses(&got), addresses(&want), "Terraform's addresses, mapped, are the offline plan's");
    let of = |plan: &Value, addr: &str| changes(plan).into_iter().find(|r| r["address"] == addr).unwrap_or_else(|| panic!("{addr}"))["change"]["after"]["input"].clone();
    for addr in ["module.edge[\"a\"].terraform_data.this", "module.edge[\"b\"].terraform_data.this", "terraform_data.notes"] {
        assert_eq!(of(&got, addr), of(&want, addr), "{addr}");
    }
    assert_eq!(of(&got, "module.edge[\"a\"].terraform_data.this"), "a-1.0.0:2:1.0.0", "edge a (on 1.0.0) reads service a (on 1.0.0)");
    assert!(edge.contains("note = \"wraps module.service\"") && edge.contains("      module.service is the service call\n"), "{edge}");
    assert!(edge.contains("# depends_on = [ module.service ] in a comment"), "{edge}");
    assert!(edge.contains("deep = local.cfg.submodule.service"), "{edge}");
    assert!(edge.contains("module.service, module.service_v1_0_0, module.edge, module.edge_v1_0_0]"), "{edge}");
    assert!(generated.contains("name = merge(module.service, module.service_v1_0_0)[each.key].id"), "the copy's references too:\n{generated}");
}

/// The release's own `moved` block into the split call (`module.legacy["a"]` to
/// `module.service["a"]`): Terraform refuses two moves to one address, so the generated chains
/// end at the release's chain (a planned under `service`) or start at `service` (a on a
/// version call); every wave plans, and a moves in place.
#[test]
fn the_releases_own_move_into_a_split_call_does_not_clash_with_the_generated_chains() {
    let tf = lz_platform::tools::terraform(&root()).unwrap_or_else(|e| panic!("terraform: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let (t, work, state) = (tmp.path().join("tree"), tmp.path().join("work"), tmp.path().join("terraform.tfstate"));
    tree(&t);
    std::fs::write(t.join("environments/moves.tf"), "moved {\n  from = module.legacy[\"a\"]\n  to   = module.service[\"a\"]\n}\n").unwrap();
    let addr = |call: &str, s: &str| format!("module.{call}[\"{s}\"]");
    wave(&t, &work, &state, &tf);
    pin(&t, &[("a", "1.0.0")]);
    let (raw, _) = wave(&t, &work, &state, &tf);
    assert_eq!(moved_in_place(&raw), BTreeSet::from([(addr("service", "a"), addr("service_v1_0_0", "a"))]));
    std::fs::remove_file(t.join("environments/prod/pins.toml")).unwrap();
    let (raw, _) = wave(&t, &work, &state, &tf);
    assert_eq!(moved_in_place(&raw), BTreeSet::from([(addr("service_v1_0_0", "a"), addr("service", "a"))]));
}

/// The release's `import` into a pinned instance targets the version call the instance is
/// planned under (the filtered `module.service` no longer has it); one into an unpinned
/// instance is left alone.
#[test]
fn an_import_into_a_pinned_instance_targets_its_version_call() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("tree");
    tree(&t);
    let import = |k: &str| format!("import {{\n  to = module.service[\"{k}\"].terraform_data.this\n  id = \"{k}\"\n}}\n");
    std::fs::write(t.join("environments/imports.tf"), format!("{}{}", import("a"), import("b"))).unwrap();
    pin(&t, &[("a", "1.0.0")]);
    let work = tmp.path().join("work");
    lz_operate::engine::copy_tree(&t.join("environments"), &work).unwrap();
    lz_platform::mixed_root::write(&t, "prod", &work, &offline(&t)).unwrap();
    let text = std::fs::read_to_string(work.join("imports.tf")).unwrap();
    assert!(text.contains("to = module.service_v1_0_0[\"a\"].terraform_data.this"), "{text}");
    assert!(text.contains("to = module.service[\"b\"].terraform_data.this"), "{text}");
    // A working copy that is not the release's text is refused, naming the release's file.
    let other = tmp.path().join("other");
    lz_operate::engine::copy_tree(&t.join("environments"), &other).unwrap();
    std::fs::write(other.join("imports.tf"), "# changed\n").unwrap();
    let e = format!("{:#}", lz_platform::mixed_root::write(&t, "prod", &other, &offline(&t)).unwrap_err());
    assert!(e.contains(&format!("{}: the working copy", t.join("environments/imports.tf").display())), "{e}");
}

/// Without the generated moves, the same split would destroy and recreate a service that
/// changes version: the moves are what keep its state (this test fails if `write` stops
/// writing them).
#[test]
fn the_generated_root_holds_a_move_chain_for_every_instance_and_rewrites_references() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("tree");
    tree(&t);
    pin(&t, &[("a", "1.0.0")]);
    let work = tmp.path().join("work");
    lz_operate::engine::copy_tree(&t.join("environments"), &work).unwrap();
    lz_platform::mixed_root::write(&t, "prod", &work, &offline(&t)).unwrap();
    let generated = std::fs::read_to_string(work.join(lz_platform::mixed_root::FILE)).unwrap();
    for (from, to) in [
        ("service[\"a\"]", "service_v0_9_0[\"a\"]"),
        ("service_v0_9_0[\"a\"]", "service_v1_0_0[\"a\"]"),
        ("service_v0_9_0[\"b\"]", "service_v1_0_0[\"b\"]"),
        ("service_v1_0_0[\"b\"]", "service[\"b\"]"),
    ] {
        assert!(generated.contains(&format!("from = module.{from}\n  to   = module.{to}\n")), "{from} -> {to} in\n{generated}");
    }
    assert!(generated.contains("module \"service_v1_0_0\" {\n  source   = \"../released/svc/1.0.0\""), "{generated}");
    assert!(!generated.contains("service_v0_9_0\" {"), "no call for a version nobody pins: {generated}");
    let main = std::fs::read_to_string(work.join("main.tf")).unwrap();
    assert!(main.contains("for_each = { for k, v in (var.services) : k => v if !contains([\"a\"], k) }"), "{main}");
    assert!(main.contains("length(merge(module.service, module.service_v1_0_0))"), "{main}");
    assert!(main.contains("depends_on = [module.service, module.service_v1_0_0]"), "{main}");
    assert!(main.contains("for k, s in merge(module.service, module.service_v1_0_0) :"), "{main}");
    // A release's own file of the generated file's name is refused, never overwritten or merged.
    let again = tmp.path().join("again");
    lz_operate::engine::copy_tree(&t.join("environments"), &again).unwrap();
    std::fs::write(again.join(lz_platform::mixed_root::FILE), "# the author's\n").unwrap();
    let e = format!("{:#}", lz_platform::mixed_root::write(&t, "prod", &again, &offline(&t)).unwrap_err());
    assert!(e.contains(lz_platform::mixed_root::FILE) && e.contains("the release holds a file"), "{e}");
    // A call of the release already named like a version call is refused, not overwritten.
    std::fs::write(t.join("environments/clash.tf"), "module \"service_v1_0_0\" {\n  source = \"../modules/svc\"\n  name = \"x\"\n  port = 1\n}\n").unwrap();
    let e = format!("{:#}", lz_platform::mixed_root::calls(&t, "prod").unwrap_err());
    assert!(e.contains("clash.tf:1: module call \"service_v1_0_0\""), "{e}");
}

/// The terraform engine's own path (`Engine::workspace`: the release tree's `environments/`,
/// `modules/` and `released/` copied, the root split, the LocalStack override and S3 backend,
/// hashicorp/aws from the pinned mirror; `Engine::mapping`) on the provider-free fixture as the
/// release's landing zone: a service moving to an older version and back is updated in place,
/// and the engine's addresses, mapped, are the offline plan's.
#[test]
fn the_terraform_engine_workspace_applies_a_service_on_an_older_version_in_place() {
    use lz_operate::deploy::{Backend, RunAs};
    let root = root();
    let endpoint = common::endpoint();
    let provider = lz_platform::provider::aws_3_39(&root).unwrap_or_else(|e| panic!("hashicorp/aws cannot be bootstrapped: {e:#}"));
    let (account, region) = ("000000000000", "eu-west-2");
    let bucket = format!("lz-mixed-{}", common::nonce());
    let s3 = lz_platform::aws::s3(&endpoint, lz_platform::aws::account_credentials(account), region);
    let rt = lz_platform::aws::runtime().unwrap();
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let config = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build();
    rt.block_on(s3.create_bucket().bucket(&bucket).create_bucket_configuration(config).send()).unwrap();
    let backend = Backend { bucket: bucket.clone(), key: "prod/landing-zone.tfstate".into(), region: region.into() };
    let run_as = RunAs { access_key_id: account.into(), secret_access_key: lz_platform::aws::TEST_SECRET.into(), session_token: None };

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().join("tree");
    tree(&t);
    let engine = lz_operate::engine::Engine::terraform_at("environments", provider);
    let mut step = 0;
    let mut wave = |pins: &[(&str, &str)]| -> Value {
        match pins {
            [] => {
                let _ = std::fs::remove_file(t.join("environments/prod/pins.toml"));
            }
            _ => pin(&t, pins),
        }
        step += 1;
        let work = tmp.path().join(format!("work-{step}"));
        let want = offline(&t);
        let ws = engine.workspace(&root, &t, &work, &endpoint, &backend, run_as.clone(), ("prod", &want)).unwrap_or_else(|e| panic!("{e:#}"));
        let vars = format!("-var-file={}", t.join("environments/prod/terraform.tfvars").display());
        let planned = ws.run(&["plan".to_string(), "-input=false".into(), "-detailed-exitcode".into(), "-out=tfplan".into(), vars]).unwrap();
        assert!(planned.code == 2, "plan:\n{}", planned.text());
        let raw = ws.terraform().show("tfplan").unwrap().json;
        let mapping = engine.mapping(&t, "prod").unwrap();
        let got: BTreeSet<String> = changes(&raw).iter().map(|r| mapping.offline(r["address"].as_str().unwrap())).collect();
        assert_eq!(got, addresses(&want), "the engine's addresses, mapped, are the offline plan's");
        let applied = ws.run(&["apply".to_string(), "-input=false".into(), "tfplan".into()]).unwrap();
        assert!(applied.code == 0, "apply:\n{}", applied.text());
        raw
    };
    let created = wave(&[]);
    assert!(changes(&created).iter().all(|r| r["change"]["actions"] == serde_json::json!(["create"])));
    let instance = |call: &str| format!("module.{call}[\"a\"]");
    let older = wave(&[("a", "1.0.0")]);
    assert_eq!(moved_in_place(&older), BTreeSet::from([(instance("service"), instance("service_v1_0_0"))]));
    let back = wave(&[]);
    assert_eq!(moved_in_place(&back), BTreeSet::from([(instance("service_v1_0_0"), instance("service"))]));
    // a on 1.0.0 again; then a release unpins it and drops every released copy: the engine reads
    // the state from the backend and moves a back in place from the version call it holds it under.
    wave(&[("a", "1.0.0")]);
    std::fs::write(t.join("modules/catalog.toml"), "[modules.svc]\nversion = \"1.1.0\"\nowner = \"t\"\nrisk = \"low\"\ndescription = \"d\"\nsha256 = \"x\"\n")
        .unwrap();
    std::fs::remove_dir_all(t.join("released")).unwrap();
    let dropped = wave(&[]);
    assert_eq!(moved_in_place(&dropped), BTreeSet::from([(instance("service_v1_0_0"), instance("service"))]));
}

/// The landing zone itself (its provider, hashicorp/aws 6.x, cannot be installed here): prod with
/// order-gateway on trading-service 1.0.0, its root rewritten as the terraform engine rewrites
/// it, rendered offline as an ordinary configuration (no instance sources): every resource, mapped,
/// is at the offline plan's address with the same planned values, the outputs over both calls
/// included. So the split (filtered `for_each`, the version call's arguments, `merge` of the
/// calls in `outputs.tf`, the `moved` chains) means for the real root what the pins mean offline.
#[test]
fn the_landing_zone_split_by_version_renders_what_its_pins_render() {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    let (t, work) = (tmp.path().join("tree"), tmp.path().join("work"));
    for d in ["environments", "modules", "released", "schema"] {
        lz_operate::engine::copy_tree(&root.join(d), &t.join(d)).unwrap();
        lz_operate::engine::copy_tree(&root.join(d), &work.join(d)).unwrap();
    }
    std::fs::write(t.join("environments/prod/pins.toml"), "[pins.trading-service]\norder-gateway = \"1.0.0\"\n").unwrap();
    let want = tfrender::render_dir(&t.join("environments"), &lz_schema::env_render_options(&t, "prod").unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let mapping = lz_platform::mixed_root::write(&t, "prod", &work.join("environments"), &want).unwrap_or_else(|e| panic!("{e:#}"));
    let opts = lz_schema::render_options(&work, vec![t.join("environments/prod/terraform.tfvars")]).unwrap();
    let mut got = tfrender::render_dir(&work.join("environments"), &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(got["resource_changes"].as_array().unwrap().iter().any(|r| r["address"].as_str().unwrap().starts_with("module.service_v1_0_0[\"order-gateway\"].")));
    mapping.plan(&mut got);
    let by_address = |p: &Value| -> std::collections::BTreeMap<String, Value> {
        changes(p).into_iter().map(|r| (r["address"].as_str().unwrap().to_string(), r["change"]["after"].clone())).collect()
    };
    let (got_changes, want_changes) = (by_address(&got), by_address(&want));
    assert_eq!(got_changes.keys().collect::<Vec<_>>(), want_changes.keys().collect::<Vec<_>>());
    for (address, after) in &want_changes {
        assert_eq!(&got_changes[address], after, "{address}");
    }
    let policy = &want_changes["module.service[\"order-gateway\"].aws_iam_role_policy.task"]["policy"];
    assert!(!policy.as_str().unwrap().contains("OnlyTheCurrentVersion"), "order-gateway plans 1.0.0's task policy: {policy}");
    assert_eq!(got["output_changes"], want["output_changes"]);
}
