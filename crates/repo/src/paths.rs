//! Where the repository's control inputs are, relative to its root. Each governance and policy
//! file is named here once; `lz_input::CONTROL_INPUTS` says what each is for (a test holds the
//! two lists equal).

/// The control table (`data.lz.controls`, and the baseline checks).
pub const CONTROLS: &str = "policies/controls.toml";
/// The policy settings (`data.lz.settings`: regions, mandatory tags, retention, severities).
pub const POLICY_SETTINGS: &str = "governance/policy.toml";
pub const EXCEPTIONS: &str = "governance/exceptions.toml";
pub const IDENTITIES: &str = "governance/identities.toml";
pub const CHANGE_WINDOWS: &str = "governance/change-windows.toml";
pub const RISK_TIERS: &str = "governance/risk-tiers.toml";
pub const APPROVAL_POLICY: &str = "governance/approval-policy.toml";
pub const STORES: &str = "governance/stores.toml";
pub const ROTATION: &str = "governance/rotation.toml";
pub const DRIFT_CLASSES: &str = "governance/drift-classes.toml";

/// Every control input above.
pub const ALL: [&str; 10] =
    [CONTROLS, POLICY_SETTINGS, EXCEPTIONS, IDENTITIES, CHANGE_WINDOWS, RISK_TIERS, APPROVAL_POLICY, STORES, ROTATION, DRIFT_CLASSES];

/// The variables an overlay may set, and why.
pub const OVERLAY_ALLOWLIST: &str = "environments/overlay-allowlist.toml";
/// The directory of the root module and of the overlays.
pub const ENVIRONMENTS_DIR: &str = "environments";

/// `environments/<env>/<file>`.
pub fn overlay_file(env: &str, file: &str) -> String {
    format!("{ENVIRONMENTS_DIR}/{env}/{file}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_control_input_is_named_here_once() {
        let inputs: Vec<&str> = lz_input::CONTROL_INPUTS.iter().map(|(f, _)| *f).collect();
        assert_eq!(inputs, super::ALL);
    }
}
