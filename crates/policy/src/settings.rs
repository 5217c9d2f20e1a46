//! `governance/policy.toml`: evaluation settings, handed to Rego as `data.lz.settings`.
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::rules::SEVERITIES;

/// What the settings file is for, in the error when it is missing.
pub fn what() -> &'static str {
    lz_input::purpose("governance/policy.toml")
}

/// Every key is optional; absent keys keep the defaults in `policies/lib/plan.rego`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverifiable_severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_regions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taggable_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stateful_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prod_environments: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_environments: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_archive_retention_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_retention_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_deletion_window_prod: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_privileged_session_seconds: Option<u32>,
}

impl Settings {
    /// Reads the settings file. The file is required (its keys are optional): a missing file
    /// is an error, never a silent fall-back to the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = lz_input::read_required(path, what())?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let settings: Settings =
            lz_repo::parse_toml(text, name)?;
        if let Some(s) = &settings.unverifiable_severity {
            if !SEVERITIES.contains(&s.as_str()) {
                bail!(
                    "{name}: unverifiable_severity {s:?} is not one of low, medium, high, critical"
                );
            }
        }
        Ok(settings)
    }

    pub fn unverifiable_severity(&self) -> &str {
        self.unverifiable_severity.as_deref().unwrap_or("high")
    }
}
