//! The risk tier of a session's change ([`Session::classify`]): the diff of the release's plan
//! against the last deployment's ([`Session::class_diff`]), classified by the governing risk
//! rules, with every governance change high and each module version move tiered by the
//! adoption gate ([`crate::adoption::tiers_and_restores`]).

use anyhow::Result;
use serde_json::Value;

use crate::diff::{Action, Diff};
use crate::session::Session;
use crate::tier::{Classification, ResourceTier, Tier};

impl Session {
    /// The diff the session classifies (the release's plan against the deployed one; every
    /// resource a create when nothing is deployed), which the approval classes route too.
    pub fn class_diff(&self) -> Result<Diff> {
        let empty = Value::Object(Default::default());
        let before = self.baseline.as_ref().map(|b| &b.plan).unwrap_or(&empty);
        Diff::between_plans(before, &self.plan, "deployed plan", "release plan", |t| self.governance.rules.replace_attributes(t))
    }

    /// The risk tier: the diff of the release's plan against the last deployment's plan
    /// (everything is a create when nothing is deployed), classified by the governing risk
    /// rules; any change to governance/ or policies/ is high.
    pub fn classify(&self) -> Result<Classification> {
        let diff = self.class_diff()?;
        let mut c = self.governance.rules.classify(&diff, &self.environment);
        for f in &self.governance_changes {
            c.resources.push(ResourceTier {
                address: f.clone(),
                resource_type: "governance".into(),
                action: Action::Update,
                tier: Tier::High,
                rule: "governance-change".into(),
                reason: "identities, approval policy, risk tiers, change windows, exceptions and policies judge every release: the security group approves their change".into(),
            });
        }
        // Module version moves (issue 32): a rollback is standard, an adoption normal.
        let (moves, restored) = crate::adoption::tiers_and_restores(self)?;
        crate::restore::retier(&mut c.resources, &restored);
        c.resources.extend(moves);
        c.tier = c
            .resources
            .iter()
            .map(|r| r.tier)
            .max()
            .unwrap_or(Tier::Standard);
        Ok(c)
    }
}
