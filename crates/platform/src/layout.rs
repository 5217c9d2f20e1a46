//! Module layout: the files every catalog module carries, typed and described variables,
//! described outputs, the version constraints in `versions.tf`, and the shared validation
//! rules of `account_id`, `region`, `partition` and `tags` (`shared_validations`).

use std::path::Path;

use anyhow::Result;
use hcl_edit::expr::Expression;

use crate::hcl;
use crate::Findings;

pub const MODULE_FILES: [&str; 7] =
    ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md", "CHANGELOG.md", "examples/basic/main.tf"];
pub const REQUIRED_VERSION: &str = ">= 1.10";
pub const AWS_CONSTRAINT: &str = ">= 6.0, < 7.0";

pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    for (name, dir) in crate::catalog::module_dirs(root)? {
        let rel = |p: &str| Path::new("modules").join(&name).join(p);
        for file in MODULE_FILES {
            if !dir.join(file).is_file() {
                f.push("layout", Some(rel(file)), None, format!("module {name} is missing {file}"));
            }
        }
        let files = hcl::parse_module_dir(&dir)?;
        let (vars, outs) = hcl::interface(&files);
        for v in vars.values() {
            let file = v.file.strip_prefix(root).unwrap_or(&v.file).to_path_buf();
            if v.type_src.is_none() {
                f.push("layout", Some(file.clone()), Some(v.line), format!("variable {} has no type", v.name));
            }
            if v.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
                f.push("layout", Some(file), Some(v.line), format!("variable {} has no description", v.name));
            }
        }
        for o in outs.values() {
            if o.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
                let file = o.file.strip_prefix(root).unwrap_or(&o.file).to_path_buf();
                f.push("layout", Some(file), Some(o.line), format!("output {} has no description", o.name));
            }
        }
        if dir.join("versions.tf").is_file() {
            let vf = hcl::parse_file(&dir.join("versions.tf"))?;
            let (required_version, aws) = version_constraints(&vf);
            if required_version.as_deref() != Some(REQUIRED_VERSION) {
                f.push("layout", Some(rel("versions.tf")), None, format!("required_version must be {REQUIRED_VERSION:?}, found {required_version:?}"));
            }
            if aws.as_deref() != Some(AWS_CONSTRAINT) {
                f.push("layout", Some(rel("versions.tf")), None, format!("hashicorp/aws must be constrained to {AWS_CONSTRAINT:?}, found {aws:?}"));
            }
        }
        for file in &files {
            for block in hcl::blocks(&file.body, "provider") {
                f.push("layout", Some(file.path.strip_prefix(root).unwrap_or(&file.path).to_path_buf()), Some(file.line_of_span(block)),
                    format!("module {name} configures a provider: providers belong to the root module"));
            }
        }
    }
    f.extend(crate::shared_validations::check(root)?);
    Ok(f)
}

/// `required_version` and the hashicorp/aws `version` from a versions.tf.
pub fn version_constraints(file: &hcl::HclFile) -> (Option<String>, Option<String>) {
    let mut required_version = None;
    let mut aws = None;
    for tf in hcl::blocks(&file.body, "terraform") {
        if let Some(Expression::String(s)) = tf.body.get_attribute("required_version").map(|a| &a.value) {
            required_version = Some(s.as_str().to_string());
        }
        for rp in hcl::blocks(&tf.body, "required_providers") {
            if let Some(Expression::Object(obj)) = rp.body.get_attribute("aws").map(|a| &a.value) {
                for (k, v) in obj.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                        _ => continue,
                    };
                    if key == "version" {
                        if let Expression::String(s) = v.expr() {
                            aws = Some(s.as_str().to_string());
                        }
                    }
                }
            }
        }
    }
    (required_version, aws)
}
