//! Module sources of a released copy (issue 32): a copy in `released/<module>/<version>/` is the
//! hashed code a pinned service runs, so every module it calls by a local path must be inside
//! it. `modules/access-logs` calls `source = "../s3-bucket"`: copied to
//! `released/access-logs/1.0.0/`, that resolves to `released/access-logs/s3-bucket/`, code no
//! recorded hash covers, which the terraform engine would plan from.
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::hcl::{blocks, labels, parse_file};

/// Every module call in the `.tf` files under `copy` whose local `source` (`./` or `../`)
/// resolves outside `copy`, as `file:line: module "name" source "..."` (file relative to `copy`).
/// A registry or remote source is not a path and is not listed here.
pub fn leaving(copy: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(copy)
        .into_iter()
        .map(|e| e.with_context(|| format!("listing {}", copy.display())))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "tf"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    for path in files {
        let file = parse_file(&path)?;
        let here = path.parent().unwrap_or(copy);
        for b in blocks(&file.body, "module") {
            let Some(source) = b.body.get_attribute("source").and_then(|a| a.value.as_str()) else { continue };
            if !(source.starts_with("./") || source.starts_with("../")) {
                continue;
            }
            if !normalized(&here.join(source)).starts_with(normalized(copy)) {
                let rel = path.strip_prefix(copy).unwrap_or(&path);
                let name = labels(b).first().cloned().unwrap_or_default();
                out.push(format!("{}:{}: module {name:?} source {source:?}", rel.display(), file.line_of_span(b)));
            }
        }
    }
    Ok(out)
}

/// `p` with `.` and `..` resolved lexically (a copy's sources name directories that may not exist).
fn normalized(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_source_that_leaves_the_copy_is_listed_and_one_inside_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("released/access-logs/1.0.0");
        std::fs::create_dir_all(copy.join("inner")).unwrap();
        std::fs::write(
            copy.join("main.tf"),
            "module \"own\" {\n  source = \"./inner\"\n}\n\nmodule \"bucket\" {\n  source = \"../s3-bucket\"\n}\n\
             module \"reg\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
        )
        .unwrap();
        std::fs::write(copy.join("inner/x.tf"), "module \"up\" {\n  source = \"../\"\n}\nmodule \"out\" {\n  source = \"../../1.0.1\"\n}\n").unwrap();
        assert_eq!(leaving(&copy).unwrap(), ["inner/x.tf:4: module \"out\" source \"../../1.0.1\"", "main.tf:5: module \"bucket\" source \"../s3-bucket\""]);
        std::fs::write(copy.join("main.tf"), "module \"own\" {\n  source = \"./inner\"\n}\n").unwrap();
        std::fs::remove_file(copy.join("inner/x.tf")).unwrap();
        assert_eq!(leaving(&copy).unwrap(), Vec::<String>::new());
    }
}
