//! Shared variable validations. Terraform has no variable inheritance: every catalog module
//! must declare its own `account_id`, `region`, `partition` and `tags`, each with its own
//! `validation` blocks. The declarations in the shared `s3-bucket` module are the reference;
//! this check fails when another module's rules for one of those variables differ from them
//! (conditions and error messages, compared with whitespace collapsed), naming both places.
//! Descriptions, types and defaults may differ (a module says what the region is for). A
//! repository without the reference module (the gate's own small test repositories) has
//! nothing to compare against and no findings.

use std::path::Path;

use anyhow::Result;
use hcl_edit::structure::Block;

use crate::hcl::{self, HclFile};
use crate::Findings;

/// The module holding the reference declarations.
pub const REFERENCE_MODULE: &str = "s3-bucket";
/// Variables whose validation rules every module declaring them shares.
pub const SHARED: [&str; 4] = ["account_id", "region", "partition", "tags"];

/// One variable's validation rules: (condition, error message) as written, whitespace collapsed.
type Rules = Vec<(String, String)>;

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rules(file: &HclFile, var: &Block) -> Rules {
    hcl::blocks(&var.body, "validation")
        .map(|v| {
            let attr = |k: &str| v.body.get_attribute(k).map(|a| collapse(&hcl::source_of(file, &a.value))).unwrap_or_default();
            (attr("condition"), attr("error_message"))
        })
        .collect()
}

/// Each shared variable declared in the `.tf` files of `dir`: (name, file, line, rules).
fn shared_vars(dir: &Path) -> Result<Vec<(String, std::path::PathBuf, usize, Rules)>> {
    let mut out = Vec::new();
    for file in hcl::parse_module_dir(dir)? {
        for block in hcl::blocks(&file.body, "variable") {
            let Some(name) = hcl::labels(block).into_iter().next() else { continue };
            if SHARED.contains(&name.as_str()) {
                out.push((name, file.path.clone(), file.line_of_span(block), rules(&file, block)));
            }
        }
    }
    Ok(out)
}

pub fn check(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let modules = crate::catalog::module_dirs(root)?;
    let Some(reference_dir) = modules.get(REFERENCE_MODULE) else {
        return Ok(f);
    };
    let reference = shared_vars(reference_dir)?;
    for name in SHARED {
        if !reference.iter().any(|(n, ..)| n == name) {
            f.push("shared-validations", Some(Path::new("modules").join(REFERENCE_MODULE)), None,
                format!("the reference module {REFERENCE_MODULE} declares no variable {name}"));
        }
    }
    for (module, dir) in &modules {
        if module == REFERENCE_MODULE {
            continue;
        }
        for (name, file, line, got) in shared_vars(dir)? {
            let Some((_, ref_file, ref_line, want)) = reference.iter().find(|(n, ..)| *n == name) else { continue };
            if got != *want {
                f.push("shared-validations", Some(rel(&file)), Some(line), format!(
                    "variable {name} of module {module} does not carry the shared validation rules of {}:{ref_line}: copy its validation blocks from there (Terraform has no variable inheritance; a change to a shared rule changes every module)",
                    rel(ref_file).display()
                ));
            }
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: &str = "variable \"region\" {\n  description = \"Region\"\n  type        = string\n\n  validation {\n    condition     = can(regex(\"^[a-z]{2}-[a-z]+-[0-9]$\", var.region))\n    error_message = \"The region must be an AWS region name.\"\n  }\n}\n";

    fn module(root: &Path, name: &str, variables: &str) {
        let dir = root.join("modules").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("variables.tf"), variables).unwrap();
    }

    fn reference(root: &Path) {
        let others = ["account_id", "partition", "tags"]
            .map(|v| format!("variable \"{v}\" {{\n  description = \"x\"\n  type = string\n  validation {{\n    condition = var.{v} != \"\"\n    error_message = \"The {v} must be set.\"\n  }}\n}}\n"))
            .join("\n");
        module(root, REFERENCE_MODULE, &format!("{REGION}\n{others}"));
    }

    #[test]
    fn identical_rules_pass_whatever_the_description_and_layout() {
        let tmp = tempfile::tempdir().unwrap();
        reference(tmp.path());
        let copy = REGION.replace("description = \"Region\"", "description = \"Region of the network\"").replace("condition     =", "condition =");
        module(tmp.path(), "network", &format!("variable \"name\" {{\n  type = string\n}}\n\n{copy}"));
        let f = check(tmp.path()).unwrap();
        assert!(f.is_empty(), "{:?}", f.0);
    }

    #[test]
    fn a_loosened_copy_is_named_with_both_places() {
        let tmp = tempfile::tempdir().unwrap();
        reference(tmp.path());
        let loose = REGION.replace("can(regex(\"^[a-z]{2}-[a-z]+-[0-9]$\", var.region))", "true");
        module(tmp.path(), "network", &format!("variable \"name\" {{\n  type = string\n}}\n\n{loose}"));
        let f = check(tmp.path()).unwrap();
        assert_eq!(f.0.len(), 1, "{:?}", f.0);
        let finding = &f.0[0];
        assert_eq!(finding.file.as_deref(), Some(Path::new("modules/network/variables.tf")));
        assert_eq!(finding.line, Some(5));
        assert!(finding.message.contains("variable region of module network"), "{}", finding.message);
        assert!(finding.message.contains("modules/s3-bucket/variables.tf:1"), "{}", finding.message);
    }

    #[test]
    fn a_dropped_rule_and_a_changed_message_are_found() {
        let tmp = tempfile::tempdir().unwrap();
        reference(tmp.path());
        let dropped = "variable \"region\" {\n  description = \"Region\"\n  type        = string\n}\n";
        module(tmp.path(), "kms-key", dropped);
        module(tmp.path(), "secrets", &REGION.replace("must be an AWS region name", "is a region"));
        let f = check(tmp.path()).unwrap();
        let files: Vec<_> = f.0.iter().filter_map(|x| x.file.clone()).collect();
        assert_eq!(files, vec![Path::new("modules/kms-key/variables.tf"), Path::new("modules/secrets/variables.tf")], "{:?}", f.0);
    }

    #[test]
    fn a_reference_without_a_shared_variable_is_a_finding() {
        let tmp = tempfile::tempdir().unwrap();
        module(tmp.path(), REFERENCE_MODULE, REGION);
        let f = check(tmp.path()).unwrap();
        let msgs: Vec<_> = f.0.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs.iter().all(|m| m.contains("reference module s3-bucket declares no variable")), "{msgs:?}");
    }
}
