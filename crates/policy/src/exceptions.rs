//! The exceptions register (`governance/exceptions.toml`): time-boxed, approved waivers of
//! one rule for addresses of one environment.
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::finding::Finding;

/// Longest allowed life of an exception, in days from `created`.
pub const MAX_DAYS: i64 = 90;

/// Rule id of findings raised against the register itself.
pub const REGISTER_RULE: &str = "LZ-EXC-001";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    #[serde(default)]
    exception: Vec<RawException>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: String,
    rule_id: String,
    scope: Scope,
    justification: String,
    compensating_control: String,
    owner: String,
    #[serde(default)]
    approver: Option<String>,
    ticket: String,
    created: toml::Value,
    expires: toml::Value,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// An environment name, or `*` for every environment.
    pub environment: String,
    /// Resource address pattern: `*` matches any run of characters, `?` one character.
    pub address: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Exception {
    pub id: String,
    pub rule_id: String,
    pub scope: Scope,
    pub justification: String,
    pub compensating_control: String,
    pub owner: String,
    pub approver: Option<String>,
    pub ticket: String,
    #[serde(serialize_with = "ser_date")]
    pub created: Date,
    #[serde(serialize_with = "ser_date")]
    pub expires: Date,
    /// 1-based line of the entry's `id` in the register.
    pub line: usize,
}

fn ser_date<S: serde::Serializer>(d: &Date, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_date(*d))
}

pub use lz_repo::date::fmt_date;

pub fn parse_date(s: &str) -> Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).with_context(|| format!("{s:?} is not a date (YYYY-MM-DD)"))
}

/// Today's UTC date from the system clock, for the offline gate. No variable overrides it;
/// tests pass their date explicitly (`Options::today`). Promotions judge exceptions at the
/// environment's server time instead (`lz_promote::clock`).
pub fn today() -> Result<Date> {
    Ok(lz_repo::date::today())
}

#[derive(Debug, Clone, Default)]
pub struct Register {
    pub file: String,
    pub exceptions: Vec<Exception>,
    /// The identities register the approvers are checked against, when it was given
    /// ([`Register::load_with_identities`]).
    pub identities: Option<Vec<Person>>,
}

/// An entry of the identities register, as far as exceptions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub display_name: String,
    pub kind: String,
    pub group: String,
    pub roles: Vec<String>,
}

/// The group whose approvers approve exceptions.
pub const APPROVER_GROUP: &str = "security";

/// The identities of an identities register text (`[identity.<name>]` tables).
pub fn parse_identities(text: &str, file: &str) -> Result<Vec<Person>> {
    let doc: toml::Table = lz_repo::parse_toml(text, file)?;
    let mut out = Vec::new();
    if let Some(ids) = doc.get("identity").and_then(|v| v.as_table()) {
        for (name, v) in ids {
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
            out.push(Person {
                name: name.clone(),
                display_name: s("name"),
                kind: s("kind"),
                group: s("group"),
                roles: v
                    .get("roles")
                    .and_then(|r| r.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// Whether `name` names `p` under any spelling (case, spaces, underscores or dots for
/// hyphens, the display name).
pub fn names_person(name: &str, p: &Person) -> bool {
    let norm = |s: &str| {
        s.trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '_' || c == '.' { '-' } else { c })
            .collect::<String>()
    };
    let n = norm(name);
    !n.is_empty() && (n == norm(&p.name) || n == norm(&p.display_name))
}

impl Register {
    /// Reads a register. The file is required: a register with no exceptions is an empty
    /// file, and a missing one is an error, never an empty register.
    pub fn load(path: &Path) -> Result<Self> {
        let text = lz_input::read_required(path, lz_input::purpose("governance/exceptions.toml"))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads a register and the identities register its approvers are checked against; both
    /// are required.
    pub fn load_with_identities(path: &Path, identities: &Path) -> Result<Self> {
        let register = Self::load(path)?;
        let text = lz_input::read_required(identities, lz_input::purpose("governance/identities.toml"))?;
        register.with_identities(&text, &identities.display().to_string())
    }

    /// The register checked against the identities register `text`.
    pub fn with_identities(mut self, text: &str, file: &str) -> Result<Self> {
        self.identities = Some(parse_identities(text, file)?);
        Ok(self)
    }

    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let raw: RawRegister =
            lz_repo::parse_toml(text, file)?;
        let mut exceptions = Vec::new();
        for e in raw.exception {
            let line = line_of_id(text, &e.id).unwrap_or(0);
            let at = format!("{file}:{line}");
            let created = date_field(&e.created)
                .with_context(|| format!("{at}: exception {}: created", e.id))?;
            let expires = date_field(&e.expires)
                .with_context(|| format!("{at}: exception {}: expires", e.id))?;
            if exceptions.iter().any(|x: &Exception| x.id == e.id) {
                bail!("{at}: exception id {} is used twice", e.id);
            }
            exceptions.push(Exception {
                id: e.id,
                rule_id: e.rule_id,
                scope: e.scope,
                justification: e.justification,
                compensating_control: e.compensating_control,
                owner: e.owner,
                approver: e.approver.filter(|a| !a.trim().is_empty()),
                ticket: e.ticket,
                created,
                expires,
                line,
            });
        }
        Ok(Self {
            file: file.to_string(),
            exceptions,
            identities: None,
        })
    }

    /// Why entry `e` cannot be honoured: its own rules, and, when the register was loaded with
    /// the identities register, its owner and approver against it. `check`, `policy` and
    /// `exceptions list` all judge an entry by this.
    pub fn entry_problems(&self, e: &Exception, today: Date) -> Vec<String> {
        let mut problems = e.problems(today);
        if let Some(ids) = &self.identities {
            problems.extend(e.identity_problems(ids));
        }
        problems
    }

    /// Findings against the register itself: every entry that cannot be honoured.
    pub fn problems(&self, today: Date) -> Vec<Finding> {
        let mut out = Vec::new();
        for e in &self.exceptions {
            for problem in self.entry_problems(e, today) {
                out.push(Finding {
                    rule_id: REGISTER_RULE.to_string(),
                    severity: "high".to_string(),
                    address: format!("{}:{}", self.file, e.line),
                    message: format!("exception {} {problem}", e.id),
                    excepted: false,
                    exception_id: None,
                    unverifiable: false,
                });
            }
        }
        out
    }

    /// The valid exception covering a finding in an environment, if any.
    pub fn covering(
        &self,
        finding: &Finding,
        environment: &str,
        today: Date,
    ) -> Option<&Exception> {
        self.exceptions.iter().find(|e| {
            e.rule_id == finding.rule_id
                && (e.scope.environment == "*" || e.scope.environment == environment)
                && wildcard_match(&e.scope.address, &finding.address)
                && e.problems(today).is_empty()
                && self
                    .identities
                    .as_ref()
                    .is_none_or(|ids| e.identity_problems(ids).is_empty())
        })
    }
}

impl Exception {
    /// Why the entry cannot be honoured (empty when valid).
    pub fn problems(&self, today: Date) -> Vec<String> {
        let mut p = Vec::new();
        if self.expires < today {
            p.push(format!("expired on {}", fmt_date(self.expires)));
        }
        if self.created > today {
            p.push(format!(
                "was created on {}, after today ({})",
                fmt_date(self.created),
                fmt_date(today)
            ));
        }
        match &self.approver {
            None => p.push("has no approver".to_string()),
            Some(a) if a.trim().eq_ignore_ascii_case(self.owner.trim()) => {
                p.push(format!("is approved by its own owner {a}"))
            }
            _ => {}
        }
        if self.expires < self.created {
            p.push("expires before it was created".to_string());
        } else if (self.expires - self.created).whole_days() > MAX_DAYS {
            p.push(format!(
                "lasts {} days, more than {MAX_DAYS} after creation",
                (self.expires - self.created).whole_days()
            ));
        }
        for (name, value) in [
            ("justification", &self.justification),
            ("compensating_control", &self.compensating_control),
            ("owner", &self.owner),
            ("ticket", &self.ticket),
        ] {
            if value.trim().is_empty() {
                p.push(format!("has an empty {name}"));
            }
        }
        p
    }

    /// Why the entry cannot be honoured, judged against the identities register: its owner is
    /// a registered identity (under any spelling of its name), and the approver a registered
    /// person of the security group with the approver role, not the owner under any spelling.
    /// (A promotion further requires the approver's signed exception-approval record of this
    /// very entry.)
    pub fn identity_problems(&self, ids: &[Person]) -> Vec<String> {
        let mut p = Vec::new();
        if !self.owner.trim().is_empty() && !ids.iter().any(|i| names_person(&self.owner, i)) {
            p.push(format!("names owner {:?}, who is not a registered identity", self.owner));
        }
        let Some(a) = &self.approver else {
            return p;
        };
        match ids.iter().find(|i| i.name == *a) {
            None => p.push(format!("names approver {a:?}, who is not a registered identity")),
            Some(i) => {
                if i.kind != "person"
                    || i.group != APPROVER_GROUP
                    || !i.roles.iter().any(|r| r == "approver")
                {
                    p.push(format!(
                        "names approver {a}, who is not a person of the {APPROVER_GROUP} group with the approver role"
                    ));
                }
                if names_person(&self.owner, i) {
                    p.push(format!(
                        "is approved by its own owner {a} (owner spelled {:?})",
                        self.owner
                    ));
                }
            }
        }
        p
    }

    pub fn days_left(&self, today: Date) -> i64 {
        (self.expires - today).whole_days()
    }
}

fn date_field(v: &toml::Value) -> Result<Date> {
    match v {
        toml::Value::String(s) => parse_date(s),
        toml::Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => {
                let month = time::Month::try_from(d.month).context("month out of range")?;
                Date::from_calendar_date(i32::from(d.year), month, d.day)
                    .context("not a calendar date")
            }
            _ => bail!("{dt} is not a plain date (YYYY-MM-DD)"),
        },
        other => bail!("{other} is not a date (YYYY-MM-DD)"),
    }
}

fn line_of_id(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.starts_with("id")
                && l.split_once('=')
                    .is_some_and(|(k, v)| k.trim() == "id" && v.trim().trim_matches('"') == id)
        })
        .map(|i| i + 1)
}

/// `*` matches any run of characters (including none), `?` exactly one; all else is literal
/// and case-sensitive, so resource addresses with `[...]` keys need no escaping. IAM's
/// `StringLike`, `Action` and `Resource` patterns match the same way (secret rotation uses it).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}
