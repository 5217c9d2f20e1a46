//! Safe drift remediation: drift classes as data (`governance/drift-classes.toml` of the release
//! deployed in the environment), auto classes restored with the deployer's credentials and
//! re-checked, manual classes never touched and handed to their control owner, and a drift seen
//! again within a day of its remediation escalated instead of reverted again. The drift check and
//! the remediation are both signed records of the evidence chain.

use anyhow::{bail, Result};
use lz_evidence::details::{DriftDetails, DriftRemediationDetails};
use lz_evidence::record::{Fields, Kind};
use lz_evidence::Signer;
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::bootstrap::{spec_from_plan, BucketSpec, EnvSpec, Names};
use crate::clock::Reading;
use crate::controls::Finding;
use crate::drift;
use crate::ledger::Record;
use crate::promote::{assume_deployer, last_deployment, Target};
use crate::Paths;

pub const DRIFT_CLASSES: &str = lz_repo::paths::DRIFT_CLASSES;

/// How long after a remediation the same drift is escalated instead of reverted again.
pub const ESCALATE_WITHIN: Duration = Duration::days(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Auto,
    Manual,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftClass {
    pub id: String,
    pub description: String,
    /// Attribute patterns; a trailing `*` matches any rest.
    pub attributes: Vec<String>,
    pub remediate: Mode,
    /// The control owner to call.
    pub owner: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftClasses {
    /// Owner of a setting no class matches (it is manual).
    pub default_owner: String,
    #[serde(rename = "class")]
    pub classes: Vec<DriftClass>,
}

fn matches(pattern: &str, attribute: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => attribute.starts_with(prefix),
        None => pattern == attribute,
    }
}

impl DriftClasses {
    pub fn parse(text: &str, origin: &str) -> Result<DriftClasses> {
        let c: DriftClasses = lz_repo::parse_toml(text, origin)?;
        let mut seen = Vec::new();
        for k in &c.classes {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("id") && l.contains(&format!("\"{}\"", k.id)))
                .map(|i| i + 1)
                .unwrap_or(0);
            if seen.contains(&k.id) {
                bail!("{origin}:{line}: drift class {} is defined twice", k.id);
            }
            if k.attributes.is_empty() || k.owner.trim().is_empty() {
                bail!("{origin}:{line}: drift class {} needs attributes and an owner", k.id);
            }
            seen.push(k.id.clone());
        }
        Ok(c)
    }

    /// The class of an attribute (first match), or `None` (manual, default owner).
    pub fn class_of(&self, attribute: &str) -> Option<&DriftClass> {
        self.classes.iter().find(|c| c.attributes.iter().any(|p| matches(p, attribute)))
    }
}

/// One drifted setting and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub resource: String,
    pub attribute: String,
    pub class: String,
    pub owner: String,
    pub declared: String,
    pub actual: String,
    /// For an escalated item: the remediation record that restored it less than a day ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_remediation: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The drift record of the bucket controls as found (none when they matched).
    pub drift: Option<u64>,
    /// The full drift check after restoring (recorded).
    pub recheck: Option<drift::Report>,
    /// Why the full check could not run (for example Terraform on a state bucket left drifted).
    pub recheck_error: Option<String>,
    pub remediated: Vec<Item>,
    pub manual: Vec<Item>,
    pub escalated: Vec<Item>,
    /// Settings of auto classes still drifted after the re-check.
    pub still_drifted: Vec<Finding>,
    /// The drift-remediation record (none when nothing drifted).
    pub record: Option<u64>,
    pub outcome: String,
}

impl Outcome {
    /// Clean: nothing drifted, or every drift was restored and the re-check is clean.
    pub fn ok(&self) -> bool {
        self.manual.is_empty() && self.escalated.is_empty() && self.still_drifted.is_empty()
    }
}


/// Items restored in `environment` by remediation records at most a day before `now`.
fn recent_remediations(records: &[Record], environment: &str, now: time::OffsetDateTime) -> Vec<(u64, Item)> {
    records
        .iter()
        .filter(|r| r.kind == Kind::DriftRemediation && r.environment.as_deref() == Some(environment))
        .filter(|r| r.time <= now && now - r.time <= ESCALATE_WITHIN)
        .flat_map(|r| {
            let items: Vec<Item> = r
                .details
                .drift_remediation()
                .and_then(|d| d.remediated.clone())
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            items.into_iter().map(move |i| (r.sequence, i))
        })
        .collect()
}

/// Restores the auto-class settings of one bucket to their declared values.
async fn restore(s3: &aws_sdk_s3::Client, spec: &BucketSpec, items: &[&Item]) -> Result<()> {
    let has = |prefix: &str| items.iter().any(|i| matches(prefix, &i.attribute));
    if has("tags.*") {
        crate::bootstrap::put_tags(s3, spec).await?;
    }
    if has("versioning") {
        crate::bootstrap::put_versioning(s3, spec).await?;
    }
    if has("public_access_block.*") {
        crate::bootstrap::put_public_access_block(s3, spec).await?;
    }
    let unknown: Vec<&str> = items
        .iter()
        .filter(|i| !["tags.*", "versioning", "public_access_block.*"].iter().any(|p| matches(p, &i.attribute)))
        .map(|i| i.attribute.as_str())
        .collect();
    if !unknown.is_empty() {
        bail!(
            "{}: drift classes mark {} as auto, but remediation knows how to restore only tags, versioning and the public access block",
            spec.name,
            unknown.join(", ")
        );
    }
    Ok(())
}

/// Checks the bucket controls of `target` and records what drifted (a `drift` record), restores
/// the auto classes with the deployer's role, then runs the full drift check (Terraform and the
/// buckets, recorded as the re-check) and records the remediation (signed by `signer`, a
/// deployer). The bucket controls come first because a state bucket without versioning can
/// keep Terraform from releasing its lock.
pub fn remediate(paths: &Paths, target: &Target, names: &Names, signer: &Signer, now: &Reading) -> Result<Outcome> {
    let now = &crate::clock::bound_in(paths, Some(&target.environment), now.clone())?;
    let ledger = paths.ledger()?;
    let records = crate::replay::admitted_records(paths, &ledger, ledger.records()?)?.0;
    let deployed = last_deployment(&records, &target.environment).ok_or_else(|| {
        crate::refusal::refuse!("nothing has been deployed to {}: there is nothing to remediate", target.environment)
    })?;
    let archive = paths.open_release(&deployed.release)?;
    let plan = archive.plan(&target.environment)?;
    crate::refusal::refuse_if!(
        deployed.plan_digest.as_deref() != Some(crate::plan_digest(&plan).as_str()),
        "the plan of {}'s deployment (record {}) re-rendered from its release does not match its recorded digest",
        target.environment,
        deployed.sequence
    );
    let spec: EnvSpec = spec_from_plan(&plan, &target.environment, &target.account_id, &target.region, names)?;
    let classes = DriftClasses::parse(&archive.text(DRIFT_CLASSES)?, &archive.origin(DRIFT_CLASSES))?;
    let recent = recent_remediations(&records, &target.environment, now.time);

    let before = crate::controls::check_buckets(&target.endpoint, &spec, &target.deployer_role)?;
    let mut out = Outcome {
        drift: None,
        recheck: None,
        recheck_error: None,
        remediated: vec![],
        manual: vec![],
        escalated: vec![],
        still_drifted: vec![],
        record: None,
        outcome: "clean".into(),
    };
    if !before.is_empty() {
        let mut resources: Vec<String> = before.iter().map(|f| f.resource.clone()).collect();
        resources.dedup();
        let fields = Fields::new(&deployed.release)
            .environment(&target.environment)
            .account(&target.account_id)
            .at(now.time)
            .details(DriftDetails {
                drifted: Some(true),
                resources: Some(resources),
                scope: Some("bucket-controls".into()),
                findings: Some(serde_json::to_value(&before)?),
                deployment_record: Some(deployed.sequence),
                clock: Some(now.source.clone()),
                ..Default::default()
            });
        out.drift = Some(ledger.append(Kind::Drift, fields, signer)?.sequence);
    }
    for f in &before {
        let class = classes.class_of(&f.attribute);
        let mut item = Item {
            resource: f.resource.clone(),
            attribute: f.attribute.clone(),
            class: class.map(|c| c.id.clone()).unwrap_or_else(|| "unclassified".into()),
            owner: class.map(|c| c.owner.clone()).unwrap_or_else(|| classes.default_owner.clone()),
            declared: f.declared.clone(),
            actual: f.actual.clone(),
            previous_remediation: None,
        };
        match class.map(|c| c.remediate) {
            Some(Mode::Auto) => {
                match recent.iter().find(|(_, i)| i.resource == item.resource && i.attribute == item.attribute) {
                    Some((seq, _)) => {
                        item.previous_remediation = Some(*seq);
                        out.escalated.push(item);
                    }
                    None => out.remediated.push(item),
                }
            }
            _ => out.manual.push(item),
        }
    }
    if !out.remediated.is_empty() {
        let run_as = assume_deployer(target, &format!("lz-remediate-{}", signer.identity()))?;
        let s3 = lz_platform::reach::with_credentials(&target.endpoint, &target.region, run_as.credentials())?.s3();
        let rt = lz_platform::aws::runtime()?;
        rt.block_on(async {
            for b in [&spec.state, &spec.evidence] {
                let res = format!("s3://{}", b.name);
                let items: Vec<&Item> = out.remediated.iter().filter(|i| i.resource == res).collect();
                if !items.is_empty() {
                    restore(&s3, b, &items).await?;
                }
            }
            anyhow::Ok(())
        })?;
    }

    // The full check (Terraform and every bucket control), recorded: the re-check.
    match drift::check(paths, target, names, signer, now) {
        Ok(r) => {
            out.still_drifted = r
                .findings
                .iter()
                .filter(|f| out.remediated.iter().any(|i| i.resource == f.resource && i.attribute == f.attribute))
                .cloned()
                .collect();
            if r.terraform_changes {
                let c = classes.class_of("terraform.plan");
                out.manual.push(Item {
                    resource: format!("{} (canary state)", target.environment),
                    attribute: "terraform.plan".into(),
                    class: c.map(|c| c.id.clone()).unwrap_or_else(|| "unclassified".into()),
                    owner: c.map(|c| c.owner.clone()).unwrap_or_else(|| classes.default_owner.clone()),
                    declared: "no changes".into(),
                    actual: "changes".into(),
                    previous_remediation: None,
                });
            }
            out.recheck = Some(r);
        }
        // Escalated or manual drift can keep Terraform from running; the record says so.
        Err(e) if !(out.manual.is_empty() && out.escalated.is_empty()) => out.recheck_error = Some(format!("{e:#}")),
        Err(e) => return Err(e),
    }
    if out.drift.is_none() && out.manual.is_empty() {
        return Ok(out);
    }
    out.outcome = if !out.still_drifted.is_empty() {
        "failed"
    } else if !out.escalated.is_empty() {
        "escalated"
    } else if !out.manual.is_empty() {
        "manual"
    } else {
        "remediated"
    }
    .into();
    let owners: Vec<String> = {
        let mut o: Vec<String> = out.manual.iter().chain(&out.escalated).map(|i| i.owner.clone()).collect();
        o.sort();
        o.dedup();
        o
    };
    let fields = Fields::new(&deployed.release)
        .environment(&target.environment)
        .account(&target.account_id)
        .at(now.time)
        .details(DriftRemediationDetails {
            drift_record: out.drift,
            recheck_record: out.recheck.as_ref().map(|r| r.record),
            recheck_error: out.recheck_error.clone(),
            deployment_record: Some(deployed.sequence),
            outcome: Some(out.outcome.clone()),
            remediated: Some(serde_json::to_value(&out.remediated)?),
            manual: Some(serde_json::to_value(&out.manual)?),
            escalated: Some(serde_json::to_value(&out.escalated)?),
            still_drifted: Some(serde_json::to_value(&out.still_drifted)?),
            owners: Some(owners),
            classes_sha256: Some(lz_evidence::dsse::sha256_hex(archive.file(DRIFT_CLASSES)?)),
            clock: Some(now.source.clone()),
            ..Default::default()
        });
    out.record = Some(ledger.append(Kind::DriftRemediation, fields, signer)?.sequence);
    Ok(out)
}

pub fn render_text(o: &Outcome) -> String {
    let mut s = match o.drift {
        Some(d) => format!("bucket controls drifted (record {d})\n"),
        None => String::new(),
    };
    if let Some(r) = &o.recheck {
        s.push_str(&drift::render_text(r));
    }
    if let Some(e) = &o.recheck_error {
        s.push_str(&format!("  the full drift check could not run: {e}\n"));
    }
    let Some(record) = o.record else { return s };
    s.push_str(&format!("remediation (record {record}): {}\n", o.outcome));
    for i in &o.remediated {
        let state = if o.still_drifted.iter().any(|f| f.resource == i.resource && f.attribute == i.attribute) {
            "STILL DRIFTED after restoring"
        } else {
            "restored"
        };
        s.push_str(&format!("  {state}: {} {} = {} (was {}) [{}]\n", i.resource, i.attribute, i.declared, i.actual, i.class));
    }
    for i in &o.escalated {
        s.push_str(&format!(
            "  ESCALATED: {} {} drifted again within a day of remediation record {}: not reverted again; call {}\n",
            i.resource,
            i.attribute,
            i.previous_remediation.unwrap_or_default(),
            i.owner
        ));
    }
    for i in &o.manual {
        s.push_str(&format!(
            "  MANUAL: {} {} (declared {}, actual {}) [{}] is not remediated automatically; call {}\n",
            i.resource, i.attribute, i.declared, i.actual, i.class, i.owner
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> DriftClasses {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let path = root.join(DRIFT_CLASSES);
        DriftClasses::parse(&std::fs::read_to_string(&path).unwrap(), &path.display().to_string()).unwrap()
    }

    #[test]
    fn the_committed_classes_sort_settings_as_the_issue_asks() {
        let c = committed();
        let cases = [
            ("tags.Owner", Some(Mode::Auto)),
            ("versioning", Some(Mode::Auto)),
            ("public_access_block.block_public_acls", Some(Mode::Auto)),
            ("policy", Some(Mode::Manual)),
            ("object_lock.mode", Some(Mode::Manual)),
            ("encryption.kms_master_key_id", Some(Mode::Manual)),
            ("iam.deployer.trust_policy", Some(Mode::Manual)),
            ("key_policy", Some(Mode::Manual)),
            ("terraform.plan", Some(Mode::Manual)),
            ("something.new", None),
        ];
        for (attribute, mode) in cases {
            assert_eq!(c.class_of(attribute).map(|k| k.remediate), mode, "{attribute}");
        }
        assert!(c.class_of("policy").unwrap().owner.starts_with("security"));
    }

    #[test]
    fn malformed_classes_name_file_and_line() {
        let e = DriftClasses::parse("default_owner = \"x\"\n[[class]]\nid = \"a\"\nremediate = \"sometimes\"\n", "dc.toml")
            .unwrap_err();
        assert!(format!("{e:#}").starts_with("dc.toml:"), "{e:#}");
        let twice = "default_owner = \"x\"\n[[class]]\nid = \"a\"\ndescription = \"d\"\nattributes = [\"t\"]\nremediate = \"auto\"\nowner = \"o\"\n[[class]]\nid = \"a\"\ndescription = \"d\"\nattributes = [\"u\"]\nremediate = \"auto\"\nowner = \"o\"\n";
        let e = DriftClasses::parse(twice, "dc.toml").unwrap_err();
        assert!(format!("{e:#}").contains("defined twice"), "{e:#}");
    }
}
