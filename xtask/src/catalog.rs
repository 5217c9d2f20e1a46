//! `cargo xtask catalog add|bump|show|deprecate|revoke|adoption|wave|vendor`: the module catalog, and the
//! staged adoption of its versions (issue 32, `lz_repo::rollout`, `lz_promote::adoption`).

use std::path::Path;
use std::process::ExitCode;

use lz_platform::catalog::{self, Level, Risk};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Bump a module's version, add a CHANGELOG entry and record its new hash
    Bump {
        /// Module directory name under modules/ (e.g. trading-service)
        #[arg(value_parser = lz_input::ids::module)]
        module: String,
        /// major, minor or patch
        level: Level,
        /// The CHANGELOG line (what changed and why)
        #[arg(long, short)]
        message: String,
        /// Write the files only: no commit and no tag (tag later with `catalog tags --create`)
        #[arg(long)]
        no_tag: bool,
    },
    /// Add a new module to the catalog
    Add {
        /// New module directory under modules/ (README, variables, outputs, examples/basic)
        #[arg(value_parser = lz_input::ids::module)]
        module: String,
        /// Owning team (a group of governance/identities.toml)
        #[arg(long)]
        owner: String,
        /// Risk of changing the module: low, medium or high
        #[arg(long, value_parser = parse_risk)]
        risk: Risk,
        /// One line on what the module provides
        #[arg(long)]
        description: String,
        /// Write the catalog only: no commit and no tag (tag later with `catalog tags --create`)
        #[arg(long)]
        no_tag: bool,
    },
    /// Every CHANGELOG version of every module with its git tag `<module>-v<version>`; exit 1
    /// when one is missing. With --create, tags each missing version at the last commit whose
    /// catalog lists it
    Tags {
        /// Create the missing tags (annotated, at the last commit whose catalog lists the version)
        #[arg(long)]
        create: bool,
    },
    /// Without MODULE: the catalog with each module's hash state. With MODULE: its card
    /// (inputs, outputs, the policy rules that judge it, versions with CHANGELOG and tag, a
    /// pinned example to paste)
    ///
    /// Example: cargo xtask catalog show trading-service
    Show {
        /// The module (a name of modules/catalog.toml); without it, the whole catalog
        #[arg(value_parser = lz_input::ids::module)]
        module: Option<String>,
        /// text for people, json for tools
        #[arg(long, value_enum, default_value = "text")]
        format: crate::format::Format,
    },
    /// Deprecate MODULE@VERSION: `check` warns wherever an overlay pins it
    Deprecate {
        /// The module and the catalog version, as trading-service@1.1.0
        #[arg(value_name = "MODULE@VERSION")]
        module_version: String,
        /// Why (recorded in the catalog and shown wherever the version is pinned)
        #[arg(long)]
        reason: String,
    },
    /// Revoke MODULE@VERSION: no promotion adopts it any more and `check` fails where it is
    /// pinned; names every service still on it (from the verified chain)
    Revoke {
        /// The module and the catalog version, as trading-service@1.1.0
        #[arg(value_name = "MODULE@VERSION")]
        module_version: String,
        /// Why (recorded in the catalog and shown wherever the version is pinned)
        #[arg(long)]
        reason: String,
    },
    /// Who runs which module version where, since when, under which approval, and which wave
    /// is next and what holds it (from the verified evidence chain)
    Adoption {
        /// Only this module (all modules with pins or rollout plans when omitted)
        #[arg(value_parser = lz_input::ids::module)]
        module: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Copy MODULE@VERSION from its git tag into released/MODULE/VERSION/ and record the copy's
    /// sha256 in the catalog: services pinned to that (older) version render from the copy
    Vendor {
        /// The module and an older version with its tag, as trading-service@1.0.0
        #[arg(value_name = "MODULE@VERSION")]
        module_version: String,
    },
    /// Bulk upgrade, one release per wave: writes the overlays' pins.toml so that a release of
    /// this tree moves exactly the next wave of MODULE@VERSION (its rollout plan in force, the
    /// versions services run from the verified chain) and holds every other service where it is
    Wave {
        /// The module and its catalog version, as trading-service@1.1.0
        #[arg(value_name = "MODULE@VERSION")]
        module_version: String,
        /// The wave to move up to (1-based); the next wave not done when omitted
        #[arg(long)]
        wave: Option<usize>,
    },
}

fn parse_risk(s: &str) -> Result<Risk, String> {
    match s {
        "low" => Ok(Risk::Low),
        "medium" => Ok(Risk::Medium),
        "high" => Ok(Risk::High),
        _ => Err(format!("risk must be low, medium or high, not {s:?}")),
    }
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Bump { module, level, message, no_tag } => {
            let today = lz_platform::today();
            let v = catalog::bump(root, &module, level, &message, &today)?;
            println!("{module} -> {v} (CHANGELOG entry added, hash recorded in {})", catalog::CATALOG);
            tag_release(root, &module, &v, &message, no_tag)?;
        }
        Action::Add { module, owner, risk, description, no_tag } => {
            catalog::add(root, &module, &owner, risk, &description)?;
            println!("{module} added to {}", catalog::CATALOG);
            let version = catalog::load(root)?.modules.get(&module).map(|e| e.version.clone()).unwrap_or_default();
            tag_release(root, &module, &version, &description, no_tag)?;
        }
        Action::Tags { create } => return tags(root, create),
        Action::Show { module: Some(module), format } => {
            let card = lz_service::card::card(root, &module)?;
            match format {
                crate::format::Format::Json => println!("{}", serde_json::to_string_pretty(&card)?),
                crate::format::Format::Text => print!("{}", card_text(&card)),
            }
        }
        Action::Deprecate { module_version, reason } => return notice(root, &module_version, &reason, false),
        Action::Revoke { module_version, reason } => return notice(root, &module_version, &reason, true),
        Action::Adoption { module, json } => return adoption(root, module.as_deref(), json),
        Action::Wave { module_version, wave } => return wave_pins(root, &module_version, wave),
        Action::Vendor { module_version } => {
            let (module, version) = lz_repo::rollout::parse_module_version(&module_version)?;
            let (dir, sha) = lz_platform::released::vendor(root, &module, &version)?;
            let rel = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
            println!("{module}@{version} copied from tag {} into {rel}/ (sha256 {sha}, recorded in {})", lz_platform::module_tags::tag(&module, &version), catalog::CATALOG);
        }
        Action::Show { module: None, .. } => {
            let c = catalog::load(root)?;
            for (name, e) in &c.modules {
                let dir = root.join("modules").join(name);
                let state = if catalog::module_hash(&dir)? == e.sha256 { "ok" } else { "CHANGED" };
                println!("{name:<16} {:<8} {:<22} {:<7} {state}", e.version, e.owner, format!("{:?}", e.risk).to_lowercase());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The commit and tag of a new module version (`lz_platform::module_tags::release`); said, not
/// done, when `no_tag` or the tree is no git checkout.
fn tag_release(root: &Path, module: &str, version: &str, message: &str, no_tag: bool) -> anyhow::Result<()> {
    use lz_platform::module_tags;
    let name = module_tags::tag(module, version);
    if no_tag || !module_tags::is_checkout(root) {
        let why = if no_tag { "--no-tag" } else { "not a git checkout" };
        println!("  tag {name} NOT created ({why}): commit modules/{module} and {}, then run `cargo xtask catalog tags --create`", catalog::CATALOG);
        return Ok(());
    }
    let t = module_tags::release(root, module, version, message).map_err(|e| {
        e.context(format!(
            "{module} {version} is written but not tagged: commit modules/{module} and {}, then run `cargo xtask catalog tags --create`",
            catalog::CATALOG
        ))
    })?;
    println!("  committed {} and tagged it {} (push it: git push origin {})", &t.commit[..12], t.tag, t.tag);
    Ok(())
}

/// `catalog tags [--create]`.
fn tags(root: &Path, create: bool) -> anyhow::Result<ExitCode> {
    use lz_platform::module_tags;
    if create {
        let (made, not) = module_tags::backfill(root)?;
        for t in &made {
            println!("tagged {} at {}", t.tag, &t.commit[..12]);
        }
        for (t, why) in &not {
            println!("NOT tagged {t}: {why}");
        }
        println!("catalog tags: {} created, {} not created", made.len(), not.len());
        return Ok(if !not.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    let missing = module_tags::missing(root)?;
    for (_, _, t) in &missing {
        println!("missing {t}");
    }
    if missing.is_empty() {
        println!("catalog tags: every catalog version has its tag");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("catalog tags: {} version(s) without a tag: run `cargo xtask catalog tags --create`", missing.len());
        Ok(ExitCode::from(1))
    }
}

/// A module card for people.
fn card_text(c: &lz_service::card::Card) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{} {}  (owner {}, risk {})\n{}\n", c.module, c.version, c.owner, c.risk, c.description);
    let _ = writeln!(s, "\nInputs ({}):", c.inputs.len());
    for i in &c.inputs {
        let req = if i.required { "required".to_string() } else { format!("default {}", i.default_src.as_deref().unwrap_or("")) };
        let _ = writeln!(s, "  {:<28} {:<14} {req}\n      {}", i.name, i.type_src.as_deref().unwrap_or("any").lines().next().unwrap_or(""), i.description.as_deref().unwrap_or("(no description)"));
    }
    let _ = writeln!(s, "\nOutputs ({}):", c.outputs.len());
    for o in &c.outputs {
        let _ = writeln!(s, "  {:<28} {}", o.name, o.description.as_deref().unwrap_or("(no description)"));
    }
    let _ = writeln!(s, "\nControls: the policy rules that judge its resources ({}):", c.resource_types.join(", "));
    for k in &c.controls {
        let _ = writeln!(s, "  {:<12} {:<8} {}  [{}]", k.id, k.severity, k.title, k.types.join(", "));
    }
    let _ = writeln!(s, "\nVersions:");
    for v in &c.versions {
        let tag = if v.tagged { format!("tag {}", v.tag) } else { format!("tag {} MISSING", v.tag) };
        let _ = writeln!(s, "  {} {} ({tag})", v.version, v.date.as_deref().unwrap_or(""));
        for ch in &v.changes {
            let _ = writeln!(s, "    - {ch}");
        }
    }
    let _ = writeln!(s, "\nExample (pinned to {}):\n{}", lz_service::card::tag(&c.module, &c.version), c.example);
    s
}

/// `catalog deprecate|revoke`: records the notice in the catalog; a revocation then names every
/// service still on the version by the verified chain, and the version a release of this tree
/// would move it to.
fn notice(root: &Path, module_version: &str, reason: &str, revoke: bool) -> anyhow::Result<ExitCode> {
    // A revocation names every service still on the version: the verified chain is read first,
    // and nothing is written when it cannot be.
    let records = if revoke {
        crate::context::LandingZone::open(root)?.paths.ledger()?.records()?
    } else {
        Vec::new()
    };
    let (module, version, current) = lz_platform::pins::notice(root, module_version, reason, revoke)?;
    println!("{module}@{version} {} in {}", if revoke { "revoked" } else { "deprecated" }, catalog::CATALOG);
    for (env, service) in lz_platform::pins::pinned_to(root, &module, &version)? {
        println!("  pinned by {service} in {env} (environments/{env}/{})", lz_repo::rollout::PINS_FILE);
    }
    if revoke {
        let on: Vec<_> = lz_promote::adoption::rows(&records, Some(&module)).into_iter().filter(|r| r.version == version).collect();
        if on.is_empty() {
            println!("no service runs {module}@{version} by the verified chain");
        }
        for r in on {
            let pin = lz_repo::rollout::pins(root, &r.environment)
                .ok()
                .and_then(|f| f.get(&module).and_then(|p| p.get(&r.service)).cloned())
                .unwrap_or_else(|| current.clone());
            let moves = if pin == version {
                "this tree still pins it there: pin another version and release".to_string()
            } else {
                format!("a release of this tree moves it to {module}@{pin}")
            };
            println!(
                "  still on it: {} in {} since {} (adoption record {}, release {}): {moves}",
                r.service,
                r.environment,
                r.since,
                r.record,
                lz_evidence::record::short(&r.release)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `catalog adoption [MODULE] [--json]`.
fn adoption(root: &Path, module: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let paths = crate::context::LandingZone::open(root)?.paths;
    let records = paths.ledger()?.records()?;
    let rows = lz_promote::adoption::rows(&records, module);
    // The waves' plans as the wave judgement applies them (a started rollout keeps the plan of
    // the release that started it; others as this tree's catalog states them), judged at the
    // time of the chain's last record (never the local clock).
    let (c, notes) = lz_promote::adoption::catalog_in_force_noted(catalog::load(root)?, &records, |d| Ok(std::mem::take(&mut paths.open_release(d)?.files)))?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    let mut targets = Vec::new();
    for env in lz_repo::env::present(root)? {
        let path = root.join("environments").join(&env).join("terraform.tfvars");
        let text = lz_input::read_required(&path, "the overlay's variables")?;
        for s in lz_platform::pins::service_names(&path.display().to_string(), &text)? {
            targets.push((env.clone(), s));
        }
    }
    let as_of = records.last().map(|r| r.time);
    let now = as_of.map(|t| t.unix_timestamp()).unwrap_or(0);
    let next = lz_promote::adoption::next_waves(&c, &targets, &records, module, now);
    if json {
        let v = serde_json::json!({
            "as_of": as_of.map(lz_promote::session::at),
            "adoption": rows,
            "rollouts": next,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no adoption records{}", module.map(|m| format!(" of {m}")).unwrap_or_default());
    }
    for r in &rows {
        let back = r.rollback_of.map(|b| format!(", rollback of {b}")).unwrap_or_default();
        println!(
            "{:<16} {:<8} {:<18} {:<8} since {} (record {}, wave {}{back}, release {}, approvals {})",
            r.module,
            r.environment,
            r.service,
            r.version,
            r.since,
            r.record,
            r.wave,
            lz_evidence::record::short(&r.release),
            r.approvals.join(", ")
        );
    }
    for n in &next {
        match &n.wave {
            None => println!("{}@{}: every wave done", n.module, n.version),
            Some((i, name)) if n.holds.is_empty() => println!("{}@{}: next wave {i} ({name}), nothing holds it", n.module, n.version),
            Some((i, name)) => println!("{}@{}: next wave {i} ({name}), held: {}", n.module, n.version, n.holds.join("; ")),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `catalog wave MODULE@VERSION [--wave N]`: the pins of one release of a bulk upgrade.
fn wave_pins(root: &Path, module_version: &str, wave: Option<usize>) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let (module, version) = lz_repo::rollout::parse_module_version(module_version)?;
    let c = catalog::load(root)?;
    let entry = c.modules.get(&module).ok_or_else(|| anyhow::anyhow!("{module} is not in {}", catalog::CATALOG))?;
    anyhow::ensure!(
        entry.version == version,
        "{module}'s catalog version is {}, not {version}: a bulk upgrade moves services to the catalog version (`cargo xtask catalog bump {module} minor --message TEXT` first)",
        entry.version
    );
    let crate::context::LandingZone { paths, .. } = crate::context::LandingZone::open(root)?;
    let records = paths.ledger()?.records()?;
    let (c, notes) = lz_promote::adoption::catalog_in_force_noted(c, &records, |d| Ok(std::mem::take(&mut paths.open_release(d)?.files)))?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    let envs = lz_repo::env::present(root)?;
    let mut targets = Vec::new();
    let mut current = std::collections::BTreeMap::new();
    for env in &envs {
        let path = root.join("environments").join(env).join("terraform.tfvars");
        let text = lz_input::read_required(&path, "the overlay's variables")?;
        for s in lz_platform::pins::service_names(&path.display().to_string(), &text)? {
            targets.push((env.clone(), s));
        }
        current.insert(env.clone(), lz_repo::rollout::pins(root, env)?);
    }
    let as_of = records.last().map(|r| r.time.unix_timestamp()).unwrap_or(0);
    let stage = lz_promote::adoption::stage(&c, &module, &version, wave, &targets, &current, &records, as_of)?;
    let (Some(index), Some(plan)) = (stage.wave, c.modules[&module].rollout.get(&version)) else {
        println!("every wave of {module}@{version} is done: nothing to stage");
        return Ok(ExitCode::SUCCESS);
    };
    let (pins, running) = (stage.pins, stage.running);
    for env in &envs {
        let path = root.join("environments").join(env).join(lz_repo::rollout::PINS_FILE);
        match pins.get(env) {
            Some(p) => {
                let body = lz_repo::rollout::pins_text(p)?;
                std::fs::write(&path, format!("# Module version pins (issue 32); `cargo xtask catalog wave` writes them.\n{body}"))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            None if path.is_file() => std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?,
            None => {}
        }
    }
    let w = &plan.waves[index];
    println!("a release of this tree moves {module} to {version} up to wave {} ({}):", index + 1, w.name);
    for t in &targets {
        let held = pins.get(&t.0).and_then(|p| p.get(&module)).and_then(|p| p.get(&t.1));
        let on = running.get(t).map(String::as_str).unwrap_or("none");
        match held {
            Some(v) => println!("  {:<8} {:<18} held on {v}", t.0, t.1),
            None if on == version => println!("  {:<8} {:<18} already on {version}", t.0, t.1),
            None => println!("  {:<8} {:<18} {on} -> {version}", t.0, t.1),
        }
    }
    // A service held on an older version renders from its released copy: say which is missing.
    for env in &envs {
        if let Err(e) = lz_repo::released::pinned(root, env) {
            println!("  before releasing: {e:#}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
