//! Policy as code on Terraform plan JSON: Rego rules evaluated in-process with regorus, the
//! exceptions register, secret scanning and redaction, text/JSON/SARIF reports.
pub mod controls;
pub mod corpus;
pub mod doc;
pub mod engine_plan;
pub mod exceptions;
mod finding;
pub mod input;
/// The secret patterns, defined in `lz-repo` (the archive's redactor shares them).
pub use lz_repo::patterns;
mod locate;
pub mod profile;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scale;
pub mod scan;
pub mod settings;
pub mod view;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

pub use exceptions::{today, Exception, Register};
pub use finding::Finding;
pub use report::{Report, Summary};
pub use rules::{run_tests, FileCoverage, PolicyTree, RuleMeta, TestOutcome, TestRun};
pub use scan::scan_secrets;
pub use settings::Settings;

/// Where evaluation finds its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rego sources (`<root>/policies` by default).
    pub policies: PathBuf,
    /// `governance/policy.toml`.
    pub settings: PathBuf,
    /// `governance/exceptions.toml` (required when given); `None` applies no register.
    pub exceptions: Option<PathBuf>,
    /// `governance/identities.toml`, which the register's approvers are checked against
    /// (required when given); `None` checks the entries' own rules only.
    pub identities: Option<PathBuf>,
    /// "Today" for exception expiry; `None` reads `LZ_TODAY` or the clock.
    pub today: Option<time::Date>,
    /// What was evaluated (plan file or environment directory), for report locations.
    pub source: Option<String>,
}

impl Options {
    /// The repository defaults under root.
    pub fn for_root(root: &Path) -> Self {
        Self {
            policies: root.join("policies"),
            settings: root.join("governance/policy.toml"),
            exceptions: Some(root.join("governance/exceptions.toml")),
            identities: Some(root.join("governance/identities.toml")),
            today: None,
            source: None,
        }
    }
}

/// Where [`Policies::findings_staged`] spends its time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stages {
    /// Shape check, secret redaction and conversion of the plan into the engine's input.
    pub input: std::time::Duration,
    /// The Rego evaluation of every rule.
    pub evaluate: std::time::Duration,
    /// Reading the findings out of the result (and dropping the evaluation's state).
    pub output: std::time::Duration,
}

/// Loaded policies, settings and an engine ready to evaluate many plans.
#[derive(Clone)]
pub struct Policies {
    pub tree: PolicyTree,
    pub settings: Settings,
    engine: regorus::Engine,
    /// The parts of a plan these policies read ([`engine_plan::Held::for_policies`]): private, so
    /// no caller can say the policies read less than they do ([`Policies::findings_engine`]
    /// refuses a plan holding less).
    held: engine_plan::Held,
}

impl Policies {
    /// The parts of a plan these policies read: what [`engine_plan::read`] must hold.
    pub fn held(&self) -> engine_plan::Held {
        self.held
    }

    pub fn load(policies: &Path, settings: &Path) -> Result<Self> {
        Self::load_staged(policies, settings, &mut Vec::new())
    }

    /// [`Policies::load`], pushing the time of each stage onto `stages`.
    pub fn load_staged(policies: &Path, settings: &Path, stages: &mut Vec<(&'static str, std::time::Duration)>) -> Result<Self> {
        let t = std::time::Instant::now();
        let tree = PolicyTree::load(policies)?;
        Self::from_tree(tree, settings, t, stages)
    }

    /// [`Policies::load`] and [`engine_plan::read`] of `plan` (what `policy --plan FILE` runs):
    /// the plan is read on a second thread while the policies are parsed and the engine is
    /// prepared, the two parts of the fixed cost that do not depend on each other (issue 29).
    /// The same policies and the same plan as the two calls one after the other; a policy error
    /// is reported before a plan error, as when they run in turn.
    pub fn load_with_plan(policies: &Path, settings: &Path, plan: &Path) -> Result<(Self, engine_plan::EnginePlan)> {
        let t = std::time::Instant::now();
        let tree = PolicyTree::load(policies)?;
        // What the plan must hold depends on the policies' text only, not on their parse.
        let held = engine_plan::Held::for_policies(&tree);
        std::thread::scope(|scope| {
            let reading = scope.spawn(|| engine_plan::read(plan, held));
            let loaded = Self::from_tree(tree, settings, t, &mut Vec::new());
            let read = reading.join();
            let loaded = loaded?;
            let read = read.map_err(|_| anyhow!("the thread reading {} panicked", plan.display()))??;
            Ok((loaded, read))
        })
    }

    /// The policies of `tree` with the settings file `settings`, parsed and prepared; `t` is when
    /// the tree began to be read (the "read policies" stage).
    fn from_tree(tree: PolicyTree, settings: &Path, t: std::time::Instant, stages: &mut Vec<(&'static str, std::time::Duration)>) -> Result<Self> {
        let settings = Settings::load(settings)?;
        stages.push(("read policies", t.elapsed()));
        let t = std::time::Instant::now();
        let mut engine = tree.engine(false)?;
        stages.push(("parse policies", t.elapsed()));
        let t = std::time::Instant::now();
        let data = serde_json::json!({ "lz": { "settings": settings } });
        engine
            .add_data(regorus::Value::from_json_str(&data.to_string()).map_err(|e| anyhow!("{e}"))?)
            .map_err(|e| anyhow!("{e}"))
            .context("loading policy settings")?;
        // Analysed and scheduled once here (a query that reads no input prepares the engine):
        // every evaluation clones the prepared engine instead of preparing it again.
        engine
            .eval_query("true".to_string(), false)
            .map_err(|e| anyhow!("{e}"))
            .context("preparing the policy engine")?;
        stages.push(("prepare engine", t.elapsed()));
        Ok(Self {
            held: engine_plan::Held::for_policies(&tree),
            tree,
            settings,
            engine,
        })
    }

    /// Raw findings of every rule on a plan (secrets redacted first), before exceptions.
    pub fn findings(&self, plan: &Value) -> Result<Vec<Finding>> {
        self.findings_staged(plan, &mut Stages::default())
    }

    /// [`Policies::findings`], adding the time of each stage to `stages` (the profile that
    /// `cargo xtask bench policy` prints).
    pub fn findings_staged(&self, plan: &Value, stages: &mut Stages) -> Result<Vec<Finding>> {
        if !plan.is_object() {
            bail!("plan JSON is not an object");
        }
        let t = std::time::Instant::now();
        input::check_shape(plan).map_err(|e| anyhow!("the plan is malformed: {e}"))?;
        let engine_input = redact::engine_input(plan);
        stages.input += t.elapsed();
        self.evaluate(engine_input, stages)
    }

    /// [`Policies::findings`] of a plan the caller no longer needs: it is dropped once the
    /// engine's input is made from it, so the plan's parsed form and the engine's copy are not
    /// held together through the evaluation (the peak memory of `policy --plan`). Same input,
    /// same findings (`owned_plan_gives_the_same_findings`).
    pub fn findings_owned(&self, plan: Value) -> Result<Vec<Finding>> {
        if !plan.is_object() {
            bail!("plan JSON is not an object");
        }
        input::check_shape(&plan).map_err(|e| anyhow!("the plan is malformed: {e}"))?;
        let engine_input = redact::engine_input(&plan);
        drop(plan);
        self.evaluate(engine_input, &mut Stages::default())
    }

    /// [`Policies::findings`] of a plan read straight into the engine's value
    /// ([`engine_plan::read`], already checked and redacted): what `policy --plan FILE` runs.
    /// A plan holding fewer parts than these policies read is refused: its rules would read
    /// empty parts and pass.
    pub fn findings_engine(&self, plan: engine_plan::EnginePlan, stages: &mut Stages) -> Result<Vec<Finding>> {
        if plan.held() == engine_plan::Held::RulesRead && self.held == engine_plan::Held::All {
            bail!("the plan was read holding only the parts {:?}, but the policies in force read more of it", engine_plan::RULES_READ);
        }
        self.evaluate(plan.into_input(), stages)
    }

    /// Every finding of the rule tree on one engine input.
    fn evaluate(&self, engine_input: regorus::Value, stages: &mut Stages) -> Result<Vec<Finding>> {
        let t = std::time::Instant::now();
        let mut engine = self.engine.clone();
        engine.set_input(engine_input);
        stages.input += t.elapsed();
        let t = std::time::Instant::now();
        // One query over the whole rule tree shares the library's partial evaluations
        // (resources, reference tracing) between rules.
        let results = engine
            .eval_query("data.lz.rules".to_string(), false)
            .map_err(|e| anyhow!("{e}"))
            .context("evaluating the policies")?;
        stages.evaluate += t.elapsed();
        let t = std::time::Instant::now();
        // The findings are read out of the engine's value: the rule tree holds every package's
        // helper rules too, never written out as JSON text as a whole (the peak memory of a
        // large plan).
        let tree = results.result.first().and_then(|r| r.expressions.first()).map(|e| &e.value);
        let mut out = Vec::new();
        for rule in &self.tree.rules {
            let mut node = tree.unwrap_or(&regorus::Value::Undefined);
            for part in rule.package.trim_start_matches("lz.rules.").split('.') {
                node = &node[part];
            }
            let deny: Vec<&regorus::Value> = match &node["deny"] {
                regorus::Value::Set(s) => s.iter_sorted().collect(),
                regorus::Value::Array(a) => a.iter().collect(),
                _ => Vec::new(),
            };
            for f in deny {
                out.push(self.finding_from(rule, &serde_json::to_value(f)?)?);
            }
        }
        drop(engine);
        stages.output += t.elapsed();
        Ok(out)
    }

    /// [`Policies::findings`] of several plans, evaluated on every core (each thread with its
    /// own copy of the prepared engine); results in the order of `plans`.
    pub fn findings_each(&self, plans: &[&Value]) -> Result<Vec<Vec<Finding>>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(plans.len().max(1));
        let chunk = plans.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = plans
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|p| self.findings(p)).collect::<Result<Vec<_>>>()))
                .collect();
            let mut out = Vec::with_capacity(plans.len());
            for h in handles {
                out.extend(h.join().map_err(|_| anyhow!("a policy evaluation thread panicked"))??);
            }
            Ok(out)
        })
    }

    fn finding_from(&self, rule: &RuleMeta, f: &Value) -> Result<Finding> {
        let field = |k: &str| -> Result<String> {
            f.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("{}: finding without string field {k}: {f}", rule.file))
        };
        // Id, severity and controls come from the rule's METADATA (one source); a finding
        // carries its own severity only when it is unverifiable (a setting, not a control).
        if let Some(id) = f.get("id") {
            if id.as_str() != Some(rule.id.as_str()) {
                bail!(
                    "{}: finding id {id} differs from the METADATA id {}",
                    rule.file,
                    rule.id
                );
            }
        }
        let severity = match f.get("severity") {
            None => rule.severity.clone(),
            Some(_) => field("severity")?,
        };
        let message = field("message")?;
        Ok(Finding {
            rule_id: rule.id.clone(),
            severity,
            address: redact::redact_str(&field("address")?),
            unverifiable: message.starts_with("unverifiable:"),
            message: redact::redact_str(&message),
            excepted: false,
            exception_id: None,
        })
    }
}

/// The plan's `environment` variable, or "" when absent.
pub fn plan_environment(plan: &Value) -> String {
    plan.pointer("/variables/environment/value")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Evaluates every policy on a plan and applies the exceptions register.
pub fn evaluate(plan: &Value, opts: &Options) -> Result<Report> {
    let policies = Policies::load(&opts.policies, &opts.settings)?;
    let findings = policies.findings(plan)?;
    finish(&policies, findings, &plan_environment(plan), opts)
}

/// Applies the register to findings (plan and scan findings alike) and builds the report.
pub fn finish(
    policies: &Policies,
    mut findings: Vec<Finding>,
    environment: &str,
    opts: &Options,
) -> Result<Report> {
    let today = match opts.today {
        Some(d) => d,
        None => exceptions::today()?,
    };
    let register = match (&opts.exceptions, &opts.identities) {
        (Some(path), Some(ids)) => Register::load_with_identities(path, ids)?,
        (Some(path), None) => Register::load(path)?,
        (None, _) => Register::default(),
    };
    for f in findings.iter_mut() {
        if let Some(e) = register.covering(f, environment, today) {
            f.excepted = true;
            f.exception_id = Some(e.id.clone());
        }
    }
    findings.extend(register.problems(today));
    findings.sort_by(|a, b| {
        finding::severity_rank(&b.severity)
            .cmp(&finding::severity_rank(&a.severity))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.address.cmp(&b.address))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings.dedup();
    Ok(Report {
        findings,
        rules: policies.tree.rules.clone(),
        environment: environment.to_string(),
        source: opts.source.clone(),
        sources: Default::default(),
    })
}

/// Parses plan JSON text; errors name file:line:col; a state file or any other document
/// that is not a plan is refused with what it is (see [`input`]).
pub fn parse_plan(text: &str, name: &str) -> Result<Value> {
    input::parse(text, name)
}

/// Reads and parses a plan file as Terraform users write it (UTF-8 with or without a BOM,
/// UTF-16 with a BOM).
/// A file over `MAX_PLAN_BYTES` is refused before it is read.
pub fn read_plan(path: &Path) -> Result<Value> {
    let bytes = lz_input::read_bytes(path, lz_input::limits::MAX_PLAN_BYTES, "MAX_PLAN_BYTES")?;
    input::parse_bytes(&bytes, &path.display().to_string())
}

