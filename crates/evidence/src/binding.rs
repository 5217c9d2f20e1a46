//! Which environments an identity signs for (issue 26): a register entry may bind an identity to
//! environments (`environments = ["prod"]`), and a bound identity signs records of those
//! environments only. Each environment's pipeline jobs sign as identities of their own
//! (`deployer-bot-prod`), with keys only that environment's pipeline role may use
//! (`lz_platform::pipeline_roles`), so a dev job cannot sign a prod deployment: the key its role
//! may use belongs to an identity bound to dev, and a record of prod signed by it is refused at
//! append and by verification (a replayed or forged record, not only a claim).
//!
//! A workload whose key is in KMS (`kms_key`, the pipeline's identities) must name its
//! environments in a new register (proposed, the genesis register a store starts with, the
//! gate's): [`new_register_problems`]. Verification does not apply that rule to a register
//! already in a chain, so a chain started before it still verifies (its records are under
//! Object Lock and cannot be rewritten). An entry without `environments` (people, and workloads
//! whose key file a person holds in a rehearsal) signs for every environment, as before.

use anyhow::{bail, Result};

use crate::identity::{Identities, Identity, Role};
use crate::record::Kind;

/// The `environments` of identity `name`'s entry, checked: known environment names, none twice,
/// at least one. `at` names the place of a span. Whether an entry must name them is a rule for
/// new registers ([`new_register_problems`]), not for parsing: a register already in a chain
/// verifies by the rules it came into force under.
pub(crate) fn parse(name: &str, environments: Option<&toml::Spanned<Vec<String>>>, at: &dyn Fn(std::ops::Range<usize>) -> String) -> Result<Option<Vec<String>>> {
    let Some(list) = environments else { return Ok(None) };
    let place = at(list.span());
    // Every environment, said explicitly (a new register names the environments of each
    // workload that deploys or approves: [`new_register_problems`]).
    if list.get_ref().iter().any(|e| e == ALL) {
        if list.get_ref().len() != 1 {
            bail!("{place}: identity {name}: \"{ALL}\" stands alone (environments = [\"{ALL}\"])");
        }
        return Ok(Some(lz_input::ENVIRONMENTS.iter().map(|e| e.to_string()).collect()));
    }
    let mut out: Vec<String> = Vec::new();
    for env in list.get_ref() {
        if !lz_input::ENVIRONMENTS.contains(&env.as_str()) {
            bail!("{place}: identity {name}: environment {env:?} is not one of {}", lz_input::ENVIRONMENTS.join(", "));
        }
        if out.contains(env) {
            bail!("{place}: identity {name}: environment {env:?} is named twice");
        }
        out.push(env.clone());
    }
    if out.is_empty() {
        bail!("{place}: identity {name}: environments is empty (leave it out to sign for every environment)");
    }
    Ok(Some(out))
}

/// `environments = ["all"]`: every environment, said explicitly.
pub const ALL: &str = "all";

/// How strictly a new register is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewRegister {
    /// The gate's register while it is the pinned genesis or the register in force (it may be
    /// one from before the bindings): a workload whose key is in KMS is bound; the witness is
    /// not.
    Genesis,
    /// A register proposed to replace the one in force (`register propose`, and the gate's
    /// working-tree register when it differs), and the genesis register a new store starts with
    /// (`bootstrap --stores`): also, every workload with the deployer or approver role names its
    /// environments (`["all"]` explicitly).
    Proposal,
}

/// What keeps `ids` (the register text of `origin`) from being proposed, starting a store or
/// passing the gate, each as `origin:line: identity NAME: message` (the line of the identity's
/// entry). Empty when it may. Verification applies none of this to a register already in a
/// chain (one valid when it came into force still verifies).
pub fn new_register_problems(ids: &Identities, origin: &str, strictness: NewRegister) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids.iter() {
        let at = |msg: &str| {
            let line = ids.source().find(&format!("[identity.{}]", id.name)).map(|at| lz_repo::line_of(ids.source(), at)).unwrap_or(1);
            format!("{origin}:{line}: identity {}: {msg}", id.name)
        };
        let workload = !id.is_person();
        if id.kms_key.is_some() && workload && id.environments.is_none() {
            out.push(at("a workload whose key is in KMS (kms_key) must name the environments it signs for (environments = [\"dev\"]): \
                 each environment's pipeline role may use only its own environments' keys"));
        }
        if id.has_role(Role::Witness) && id.environments.is_some() {
            out.push(at("the witness co-signs every environment's chain and signs no environment's records: it names no environments \
                 (and no pipeline role may use its key)"));
        }
        let signs_environments = id.has_role(Role::Deployer) || id.has_role(Role::Approver);
        if strictness == NewRegister::Proposal && workload && signs_environments && id.environments.is_none() {
            out.push(at("a workload with the deployer or approver role must name the environments it signs for \
                 (environments = [\"prod\"], or [\"all\"] for every environment)"));
        }
    }
    out
}

/// The gate's warning about a binding that protects nothing: a workload that may sign what was
/// deployed or observed (the deployer role, not a policy identity) bound to prod and a lower
/// environment, so a lower environment's job holding its key signs prod's records. Each as
/// `origin:line: identity NAME: message`.
pub fn prod_and_lower(ids: &Identities, origin: &str) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids.iter() {
        let Some(bound) = &id.environments else { continue };
        let lower: Vec<&str> = bound.iter().map(String::as_str).filter(|e| *e != "prod").collect();
        if id.is_person() || !id.has_role(Role::Deployer) || id.has_role(Role::Approver) || !bound.iter().any(|e| e == "prod") || lower.is_empty() {
            continue;
        }
        let line = ids.source().find(&format!("[identity.{}]", id.name)).map(|at| lz_repo::line_of(ids.source(), at)).unwrap_or(1);
        out.push(format!(
            "{origin}:{line}: identity {}: a deployer bound to prod and to {} signs prod's records with a key a lower environment's jobs use: \
             give prod a deployer of its own",
            id.name,
            lower.join(", ")
        ));
    }
    out
}

/// [`new_register_problems`] as an error (register propose, the genesis register at bootstrap).
pub fn check_new_register(ids: &Identities, origin: &str, strictness: NewRegister) -> Result<()> {
    let problems = new_register_problems(ids, origin, strictness);
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

/// Whether `signer` may sign a record of `environment`: always for an identity bound to no
/// environment, else only for one it is bound to.
pub fn signs_for(signer: &Identity, environment: &str) -> bool {
    signer.environments.as_ref().is_none_or(|bound| bound.iter().any(|e| e == environment))
}

/// Whether the policy-identity rule ([`NOT_BY_POLICY_IDENTITY`]) judges the records signed while
/// `register` is in force. The rule came into force with the environment bindings (issue 26):
/// from the first register in a chain that binds an identity to environments, every later one
/// does too (a proposed register binds every workload that deploys or approves, and so does a
/// genesis register a store starts with: [`NewRegister`]), so a chain is judged by it from the
/// sequence that register came into force at. A chain whose registers bind nobody (started, and
/// signed, before the rule) still verifies: its records are under Object Lock and cannot be
/// re-signed.
pub fn policy_identity_rule_in_force(register: &Identities) -> bool {
    register.iter().any(|id| id.environments.is_some())
}

/// The kinds of record a policy identity never signs: what was deployed, observed or changed
/// in an environment. A later gate trusts them (the prod promotion takes preprod's newest drift
/// record), so the identity every environment's policy evaluation shares must not write them.
pub const NOT_BY_POLICY_IDENTITY: [Kind; 7] =
    [Kind::Deployment, Kind::Drift, Kind::DriftRemediation, Kind::Rotation, Kind::RotationVerification, Kind::LockRecovery, Kind::Adoption];

#[cfg(test)]
mod tests {
    use crate::identity::Identities;

    fn register(extra: &str) -> anyhow::Result<Identities> {
        let key = crate::identity::encode_public_key(&crate::identity::generate_key().verifying_key());
        Identities::parse(
            &format!("[identity.bot]\nname = \"Bot\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\npublic_key = \"{key}\"\n{extra}"),
            "identities.toml",
        )
    }

    #[test]
    fn a_bound_identity_signs_for_its_environments_only() {
        let ids = register("environments = [\"dev\", \"test\"]\n").unwrap();
        let bot = ids.get("bot").unwrap();
        assert!(crate::verify::binding_rule(bot, Some("dev")).is_ok() && crate::verify::binding_rule(bot, Some("test")).is_ok());
        let refused = crate::verify::binding_rule(bot, Some("prod")).unwrap_err();
        assert_eq!(refused.code(), "environment-binding");
        assert!(refused.to_string().contains("bot is bound to dev, test and may not sign a record of prod"), "{refused}");
        // A record of no environment (a release, say) is not the binding's business.
        assert!(crate::verify::binding_rule(bot, None).is_ok());
        // Unbound: every environment.
        let ids = register("").unwrap();
        assert!(crate::verify::binding_rule(ids.get("bot").unwrap(), Some("prod")).is_ok());
    }

    #[test]
    fn bad_bindings_are_refused_with_their_line() {
        for (extra, says) in [
            ("environments = [\"staging\"]\n", "identities.toml:7: identity bot: environment \"staging\" is not one of"),
            ("environments = [\"dev\", \"dev\"]\n", "named twice"),
            ("environments = []\n", "environments is empty"),
        ] {
            let e = format!("{:#}", register(extra).unwrap_err());
            assert!(e.contains(says), "{extra}: {e}");
        }
        // A KMS workload must be bound: its key is used by pipeline roles, one per environment.
        let p256 = *p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap().verifying_key();
        let kms = format!(
            "[identity.bot]\nname = \"Bot\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"deployer\"]\nalgorithm = \"ecdsa-p256-sha256\"\npublic_key = \"{}\"\nkms_key = \"arn:aws:kms:eu-west-2:999999999999:key/k\"\n",
            crate::identity::encode_public_key(&p256)
        );
        // The parser verification uses accepts it (a register of a chain started before the rule);
        // a new register (proposed, genesis, the gate's) may not be it.
        let ids = Identities::parse(&kms, "identities.toml").unwrap();
        let e = format!("{:#}", super::check_new_register(&ids, "identities.toml", super::NewRegister::Genesis).unwrap_err());
        assert!(e.contains("identities.toml:1: identity bot: a workload whose key is in KMS (kms_key) must name the environments it signs for"), "{e}");
        let ids = Identities::parse(&format!("{kms}environments = [\"prod\"]\n"), "identities.toml").unwrap();
        assert!(super::check_new_register(&ids, "identities.toml", super::NewRegister::Genesis).is_ok());
    }

    #[test]
    fn a_new_register_binds_every_workload_that_deploys_or_approves() {
        use super::{new_register_problems, prod_and_lower, NewRegister};
        // Unbound: a register already in a chain, or a genesis, may say so; a proposal may not.
        let ids = register("").unwrap();
        assert!(new_register_problems(&ids, "identities.toml", NewRegister::Genesis).is_empty());
        let p = new_register_problems(&ids, "identities.toml", NewRegister::Proposal);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("identities.toml:1: identity bot: a workload with the deployer or approver role must name the environments"), "{p:?}");
        // "all" is every environment, said explicitly; the gate names a deployer bound to prod and lower.
        let ids = register("environments = [\"all\"]\n").unwrap();
        assert_eq!(ids.get("bot").unwrap().environments.as_deref(), Some(&lz_input::ENVIRONMENTS.map(String::from)[..]));
        assert!(new_register_problems(&ids, "identities.toml", NewRegister::Proposal).is_empty());
        let wide = prod_and_lower(&ids, "identities.toml");
        assert!(wide.len() == 1 && wide[0].contains("identity bot: a deployer bound to prod and to dev, test, uat, preprod"), "{wide:?}");
        assert!(prod_and_lower(&register("environments = [\"prod\"]\n").unwrap(), "identities.toml").is_empty());
        assert!(prod_and_lower(&register("environments = [\"dev\", \"test\"]\n").unwrap(), "identities.toml").is_empty());
        let e = format!("{:#}", register("environments = [\"all\", \"prod\"]\n").unwrap_err());
        assert!(e.contains("identities.toml:7: identity bot: \"all\" stands alone"), "{e}");
        // The witness signs no environment's records: it names none.
        let key = crate::identity::encode_public_key(&crate::identity::generate_key().verifying_key());
        let witness = format!(
            "[identity.wit]\nname = \"W\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{key}\"\nenvironments = [\"prod\"]\n"
        );
        let p = new_register_problems(&Identities::parse(&witness, "identities.toml").unwrap(), "identities.toml", NewRegister::Genesis);
        assert!(p.len() == 1 && p[0].contains("identity wit: the witness co-signs every environment's chain"), "{p:?}");
    }

    #[test]
    fn a_policy_identity_signs_no_record_of_what_was_deployed_or_observed() {
        let ids = register("").unwrap();
        let deployer = ids.get("bot").unwrap();
        let key = crate::identity::encode_public_key(&crate::identity::generate_key().verifying_key());
        let policy = Identities::parse(
            &format!("[identity.pol]\nname = \"P\"\nkind = \"workload\"\ngroup = \"platform\"\nroles = [\"approver\", \"deployer\"]\npublic_key = \"{key}\"\n"),
            "identities.toml",
        )
        .unwrap();
        let policy = policy.get("pol").unwrap();
        for kind in super::NOT_BY_POLICY_IDENTITY {
            assert!(crate::verify::policy_identity_rule(kind, deployer).is_ok(), "{kind}");
            assert_eq!(crate::verify::policy_identity_rule(kind, policy).unwrap_err().code(), "policy-identity", "{kind}");
        }
        for kind in [crate::record::Kind::PolicyEvaluation, crate::record::Kind::Approval, crate::record::Kind::Plan] {
            assert!(crate::verify::policy_identity_rule(kind, policy).is_ok(), "{kind}");
        }
    }

    #[test]
    fn reordering_the_environments_is_no_change() {
        let a = register("environments = [\"dev\", \"test\"]\n").unwrap();
        let b = Identities::parse(&a.source().replace("[\"dev\", \"test\"]", "[\"test\", \"dev\"]"), "identities.toml").unwrap();
        assert!(a.changes_to(&b).is_empty(), "{:?}", a.changes_to(&b));
        let c = Identities::parse(&a.source().replace("[\"dev\", \"test\"]", "[\"dev\"]"), "identities.toml").unwrap();
        assert_eq!(a.changes_to(&c).len(), 1);
    }
}
