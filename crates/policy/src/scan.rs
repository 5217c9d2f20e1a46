//! Secret scanning of overlays (`environments/**/*.tfvars`) and module sources
//! (`modules/**/*.tf`): access key ids, private key blocks, high-entropy values of
//! password/secret/token attributes. Values are never reported.
use std::path::Path;

use anyhow::{Context, Result};

use crate::finding::Finding;

pub const ACCESS_KEY_RULE: &str = "LZ-SCAN-001";
pub const PRIVATE_KEY_RULE: &str = "LZ-SCAN-002";
pub const ENTROPY_RULE: &str = "LZ-SCAN-003";

use crate::patterns::{access_key, private_key_header as private_key, quoted_assignment as secret_assignment};

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn looks_random(value: &str) -> bool {
    value.len() >= 16
        && !value.contains("${")
        && entropy(value) >= 3.5
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// Scans one file's text; `rel` names it in findings.
pub fn scan_text(rel: &str, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{rel}:{}", i + 1);
        let finding = |rule: &str, message: String| Finding {
            rule_id: rule.to_string(),
            severity: "critical".to_string(),
            address: at.clone(),
            message,
            excepted: false,
            exception_id: None,
            unverifiable: false,
        };
        for m in access_key().find_iter(line) {
            out.push(finding(
                ACCESS_KEY_RULE,
                format!(
                    "AWS access key id {}**************** in source",
                    &m.as_str()[..4]
                ),
            ));
        }
        if private_key().is_match(line) {
            out.push(finding(
                PRIVATE_KEY_RULE,
                "private key block in source ([REDACTED])".to_string(),
            ));
        }
        if let Some(c) = secret_assignment().captures(line) {
            if looks_random(&c[2]) && !access_key().is_match(&c[2]) {
                out.push(finding(
                    ENTROPY_RULE,
                    format!(
                        "high-entropy value for {} ([REDACTED], {} characters)",
                        &c[1],
                        c[2].chars().count()
                    ),
                ));
            }
        }
    }
    out
}

/// Scans `environments/**/*.tfvars` and `modules/**/*.tf` under root.
pub fn scan_secrets(root: &Path) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for (dir, ext) in [("environments", "tfvars"), ("modules", "tf")] {
        let base = root.join(dir);
        if !base.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let entry = entry.with_context(|| format!("reading {}", base.display()))?;
            let path = entry.path();
            if !entry.file_type().is_file()
                || path.extension().and_then(|e| e.to_str()) != Some(ext)
            {
                continue;
            }
            if path.components().any(|c| c.as_os_str() == ".terraform") {
                continue;
            }
            let text = match std::fs::read(path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            let rel = path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            out.extend(scan_text(&rel, &text));
        }
    }
    Ok(out)
}
