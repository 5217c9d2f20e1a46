//! The LocalStack provider and backend override (tflocal-style), generated at run time into the
//! working copy of a root module and never committed: an endpoint for every AWS service the
//! configuration uses, on the default provider and on every aliased one, the `skip_*` flags,
//! path-style S3 and the environment's test credentials (access key id = account id).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Structure;

use crate::hcl;

pub const FILE_NAME: &str = "localstack_override.tf";

/// The endpoint key of the AWS provider for a resource type prefix.
const SERVICE_PREFIXES: &[(&str, &str)] = &[
    ("aws_s3_", "s3"),
    ("aws_kms_", "kms"),
    ("aws_iam_", "iam"),
    ("aws_cloudtrail", "cloudtrail"),
    ("aws_cloudwatch_log_", "logs"),
    ("aws_cloudwatch_", "cloudwatch"),
    ("aws_secretsmanager_", "secretsmanager"),
    ("aws_vpc", "ec2"),
    ("aws_subnet", "ec2"),
    ("aws_route", "ec2"),
    ("aws_internet_gateway", "ec2"),
    ("aws_nat_gateway", "ec2"),
    ("aws_eip", "ec2"),
    ("aws_security_group", "ec2"),
    ("aws_vpc_security_group_", "ec2"),
    ("aws_default_security_group", "ec2"),
    ("aws_default_network_acl", "ec2"),
    ("aws_network_acl", "ec2"),
    ("aws_flow_log", "ec2"),
    ("aws_ec2_", "ec2"),
    ("aws_sns_", "sns"),
    ("aws_sqs_", "sqs"),
    ("aws_ssm_", "ssm"),
];

/// Services the provider always needs (credential validation and account lookups).
const ALWAYS: &[&str] = &["sts"];

/// Provider aliases and AWS services used by a root module and every local module it calls.
#[derive(Debug, Default)]
pub struct Usage {
    pub aliases: BTreeSet<String>,
    pub services: BTreeSet<String>,
    pub unmapped_types: BTreeSet<String>,
}

pub fn usage(root_dir: &Path) -> Result<Usage> {
    let mut u = Usage::default();
    let mut seen = BTreeSet::new();
    walk(root_dir, true, &mut u, &mut seen)?;
    for s in ALWAYS {
        u.services.insert(s.to_string());
    }
    Ok(u)
}

fn walk(dir: &Path, is_root: bool, u: &mut Usage, seen: &mut BTreeSet<PathBuf>) -> Result<()> {
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if !seen.insert(canon) {
        return Ok(());
    }
    for file in hcl::parse_module_dir(dir)? {
        for s in file.body.iter() {
            let Structure::Block(b) = s else { continue };
            let labels = hcl::labels(b);
            match b.ident.as_str() {
                "provider" if is_root && labels.first().map(String::as_str) == Some("aws") => {
                    if let Some(Expression::String(a)) = b.body.get_attribute("alias").map(|a| &a.value) {
                        u.aliases.insert(a.as_str().to_string());
                    }
                }
                "resource" | "data" => {
                    if let Some(t) = labels.first().filter(|t| t.starts_with("aws_")) {
                        match SERVICE_PREFIXES.iter().find(|(p, _)| t.starts_with(p)) {
                            Some((_, svc)) => {
                                u.services.insert(svc.to_string());
                            }
                            None => {
                                u.unmapped_types.insert(t.clone());
                            }
                        }
                    }
                }
                "module" => {
                    if let Some(Expression::String(src)) = b.body.get_attribute("source").map(|a| &a.value) {
                        let src = src.as_str();
                        if src.starts_with("./") || src.starts_with("../") {
                            walk(&dir.join(src), false, u, seen)?;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The override file's text for a root module (hashicorp/aws 4.x and later, the landing zone's).
pub fn render(root_dir: &Path, endpoint: &str, access_key_id: &str, region: &str) -> Result<String> {
    render_for(root_dir, endpoint, access_key_id, region, CURRENT_MAJOR)
}

/// The provider major version [`render`] writes for.
pub const CURRENT_MAJOR: u64 = 6;

/// The override for a given hashicorp/aws major version: 3.x spells path-style S3
/// `s3_force_path_style`, 4.x and later `s3_use_path_style`. The text is checked with
/// [`check_coverage`] before it is returned: every provider configuration the root declares,
/// aliases included, points every service the configuration uses at LocalStack.
pub fn render_for(root_dir: &Path, endpoint: &str, access_key_id: &str, region: &str, provider_major: u64) -> Result<String> {
    let u = usage(root_dir)?;
    if !u.unmapped_types.is_empty() {
        anyhow::bail!(
            "no LocalStack endpoint mapping for resource types {:?}: add them to SERVICE_PREFIXES in {}",
            u.unmapped_types,
            file!()
        );
    }
    let endpoints: String = u.services.iter().map(|s| format!("    {s} = \"{endpoint}\"\n")).collect();
    let path_style = if provider_major < 4 { "s3_force_path_style        " } else { "s3_use_path_style          " };
    let provider = |alias: Option<&str>| {
        let alias_line = alias.map(|a| format!("  alias = \"{a}\"\n")).unwrap_or_default();
        format!(
            "provider \"aws\" {{\n{alias_line}  access_key                  = \"{access_key_id}\"\n  secret_key                  = \"{}\"\n  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n  skip_requesting_account_id  = false\n  skip_region_validation      = true\n  {path_style} = true\n\n  endpoints {{\n{endpoints}  }}\n}}\n\n",
            crate::aws::TEST_SECRET
        )
    };
    let mut out = String::from("# Generated by the landing zone harness for LocalStack; never commit.\n\n");
    out.push_str(&provider(None));
    for a in &u.aliases {
        out.push_str(&provider(Some(a)));
    }
    out.push_str(&format!(
        "terraform {{\n  backend \"s3\" {{\n    access_key                  = \"{access_key_id}\"\n    secret_key                  = \"{}\"\n    region                      = \"{region}\"\n    use_path_style              = true\n    skip_credentials_validation = true\n    skip_metadata_api_check     = true\n    skip_region_validation      = true\n    skip_requesting_account_id  = true\n\n    endpoints = {{\n      s3  = \"{endpoint}\"\n      sts = \"{endpoint}\"\n      iam = \"{endpoint}\"\n    }}\n  }}\n}}\n",
        crate::aws::TEST_SECRET
    ));
    check_coverage(&u, &out)?;
    Ok(out)
}

/// A provider configuration that would reach real AWS: the root declares it (the default one,
/// or an alias) but the override gives it no block, or its block lacks an endpoint for a
/// service the configuration uses (the tflocal-style leak). An error names each.
pub fn check_coverage(u: &Usage, text: &str) -> Result<()> {
    let by = endpoints_by_provider(text)?;
    let mut leaks = Vec::new();
    for alias in std::iter::once(None).chain(u.aliases.iter().map(|a| Some(a.clone()))) {
        let name = alias.as_deref().map(|a| format!("aws.{a}")).unwrap_or_else(|| "aws (default)".into());
        match by.get(&alias) {
            None => leaks.push(format!("{name}: no provider block")),
            Some(have) => {
                let missing: Vec<&String> = u.services.iter().filter(|s| !have.contains(*s)).collect();
                if !missing.is_empty() {
                    leaks.push(format!("{name}: no endpoint for {missing:?}"));
                }
            }
        }
    }
    if !leaks.is_empty() {
        anyhow::bail!("the LocalStack override leaves provider configurations pointed at real AWS: {}", leaks.join("; "));
    }
    Ok(())
}

/// Write the override into a working copy of a root module.
pub fn write(work_dir: &Path, endpoint: &str, access_key_id: &str, region: &str) -> Result<PathBuf> {
    use anyhow::Context;
    let text = render(work_dir, endpoint, access_key_id, region)?;
    let path = work_dir.join(FILE_NAME);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Per provider block of a rendered override: alias (None for default) -> endpoint services.
pub fn endpoints_by_provider(text: &str) -> Result<BTreeMap<Option<String>, BTreeSet<String>>> {
    let file = hcl::parse_text(Path::new(FILE_NAME), text.to_string())?;
    let mut out = BTreeMap::new();
    for b in hcl::blocks(&file.body, "provider") {
        let alias = match b.body.get_attribute("alias").map(|a| &a.value) {
            Some(Expression::String(s)) => Some(s.as_str().to_string()),
            _ => None,
        };
        let services = hcl::blocks(&b.body, "endpoints")
            .flat_map(|e| e.body.attributes().map(|a| a.key.as_str().to_string()).collect::<Vec<_>>())
            .collect();
        out.insert(alias, services);
    }
    Ok(out)
}
