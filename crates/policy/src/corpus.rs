//! The plan corpus (`policies/corpus/`): plan files in the shapes Terraform users produce
//! (provider generations, plan format versions, encodings, module nesting, and files that are
//! not plans), each with its expected findings as data in `cases.toml`.
use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::Policies;

/// The expectations file inside the corpus directory.
pub const CASES: &str = "cases.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Plan file, relative to the corpus directory.
    pub file: String,
    /// What the case shows.
    pub what: String,
    /// Every finding the plan gives (rule id, address, unverifiable): no more, no less.
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// For a file that is refused: a text the error must contain.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub rule: String,
    pub address: String,
    #[serde(default)]
    pub unverifiable: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

/// The outcome of one case: `problems` is empty when it passed.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: String,
    pub what: String,
    pub problems: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Loads `cases.toml`; every plan file in the directory must have a case.
pub fn load(dir: &Path) -> Result<Vec<Case>> {
    let path = dir.join(CASES);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let cases: CaseFile = lz_repo::parse_toml(&text, &path.display().to_string())?;
    let named: BTreeSet<&str> = cases.case.iter().map(|c| c.file.as_str()).collect();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !named.contains(name.as_str()) {
            bail!("{}: {name} has no case", path.display());
        }
    }
    for c in &cases.case {
        if c.error.is_some() && !c.expect.is_empty() {
            bail!(
                "{}: case {} has both error and expect",
                path.display(),
                c.file
            );
        }
    }
    Ok(cases.case)
}

/// Runs every case of the corpus with the loaded policies (no exceptions register).
pub fn run(dir: &Path, policies: &Policies) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for case in load(dir)? {
        let path = dir.join(&case.file);
        let mut problems = Vec::new();
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        // Through the reader `policy --plan` ships (`engine_plan`, holding what these policies
        // read): a corpus file the shipped reader refuses (a key named twice) fails here too.
        let read = crate::input::decode_owned(bytes, &case.file)
            .and_then(|text| crate::engine_plan::parse(&text, &case.file, policies.held()));
        match (read, &case.error) {
            (Err(e), Some(want)) => {
                let msg = format!("{e:#}");
                if !msg.contains(want.as_str()) {
                    problems.push(format!("error {msg:?} does not contain {want:?}"));
                }
            }
            (Err(e), None) => problems.push(format!("refused: {e:#}")),
            (Ok(_), Some(want)) => {
                problems.push(format!("accepted, expected an error containing {want:?}"))
            }
            (Ok(plan), None) => {
                let got: BTreeSet<Expected> = policies
                    .findings_engine(plan, &mut crate::Stages::default())?
                    .into_iter()
                    .map(|f| Expected {
                        rule: f.rule_id,
                        address: f.address,
                        unverifiable: f.unverifiable,
                    })
                    .collect();
                let want: BTreeSet<Expected> = case.expect.iter().cloned().collect();
                for m in want.difference(&got) {
                    problems.push(format!(
                        "missing {} at {} (unverifiable {})",
                        m.rule, m.address, m.unverifiable
                    ));
                }
                for x in got.difference(&want) {
                    problems.push(format!(
                        "unexpected {} at {} (unverifiable {})",
                        x.rule, x.address, x.unverifiable
                    ));
                }
            }
        }
        out.push(Outcome {
            file: case.file,
            what: case.what,
            problems,
        });
    }
    Ok(out)
}
