//! Which engine a promotion applies with, and what that means for the run: the stack applied
//! (always the release's own files), its state key, its variables and its provider.
//!
//! - [`Engine::canary`]: `stacks/canary`, provider-free `terraform_data` resources, state key
//!   `<env>/canary.tfstate`: the stand-in wherever hashicorp/aws is missing.
//! - [`Engine::terraform`]: the release's `environments/` root (with `modules/` beside it, as
//!   the release holds them) applied with the real hashicorp/aws provider, state key from the
//!   environment's `backend.hcl` (`<env>/landing-zone.tfstate`), the full LocalStack override
//!   (every aliased provider included, [`lz_platform::localstack_override::check_coverage`]).
//!   The provider comes from the pinned mirror in `.tools/aws-provider` when it is installed
//!   ([`lz_platform::provider::installed`]), otherwise from Terraform's own installation (the
//!   registry, a CI runner's plugin cache). A provider Terraform cannot install fails the run
//!   with a `failed` record; nothing falls back to the canary silently.
//!
//! The deployment records of a run name the engine ([`lz_evidence::details::Engine`]); the
//! verifier holds the record that closes a run to the engine its in-progress record decided.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lz_evidence::details::Engine as Kind;
use lz_platform::provider::AwsProvider;

use crate::deploy::{Backend, RunAs, Workspace, CANARY};
use crate::target::Target;

/// The landing zone's root in a release tree.
pub const LANDING_ZONE: &str = "environments";

#[derive(Clone, Debug)]
pub struct Engine {
    kind: Kind,
    /// The stack applied, relative to the release tree.
    root: String,
    provider: Option<AwsProvider>,
}

impl Engine {
    pub fn canary() -> Engine {
        Engine { kind: Kind::Canary, root: CANARY.into(), provider: None }
    }

    /// The landing zone itself with hashicorp/aws (see the module documentation).
    pub fn terraform(root: &Path) -> Engine {
        Engine { kind: Kind::Terraform, root: LANDING_ZONE.into(), provider: lz_platform::provider::installed(root) }
    }

    /// Test builds only (`test-hooks`): the terraform engine applying another root of the
    /// release tree (a stack written for the provider that is installed) with `provider`.
    #[cfg(feature = "test-hooks")]
    pub fn terraform_at(stack: &str, provider: AwsProvider) -> Engine {
        Engine { kind: Kind::Terraform, root: stack.into(), provider: Some(provider) }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The stack's directory in the release tree `tree`.
    pub fn stack(&self, tree: &Path) -> PathBuf {
        tree.join(&self.root)
    }

    /// Where the run's state lives: the canary's key, or the landing zone's from the release's
    /// `environments/<env>/backend.hcl` ([`Target::backend_of`], which drift and the facts
    /// checks read a deployment's state with).
    pub fn backend(&self, t: &Target) -> Backend {
        t.backend_of(Some(self.kind))
    }

    /// The engine a deployment record names, as the shipped harness applies it (`None`: a
    /// record older than the field, the canary's). `root` holds `.tools/aws-provider`.
    pub fn of_record(kind: Option<Kind>, root: &Path) -> Engine {
        match kind {
            Some(Kind::Terraform) => Engine::terraform(root),
            _ => Engine::canary(),
        }
    }

    /// The working copy, initialised: the canary's files alone, or the landing zone's root
    /// under `work/<root>` with the release's `modules/` at `work/modules` (its module sources
    /// are `../modules/...`) and `released/` at `work/released`, the whole override written and
    /// the provider installed. An environment whose services run several versions of a module
    /// gets each version under its own call, with moves that keep their state
    /// ([`lz_platform::mixed_root`], instance keys from `plan`, the environment's offline plan).
    #[allow(clippy::too_many_arguments)]
    pub fn workspace(
        &self,
        root: &Path,
        tree: &Path,
        work: &Path,
        endpoint: &str,
        backend: &Backend,
        run_as: RunAs,
        (environment, plan): (&str, &serde_json::Value),
    ) -> Result<Workspace> {
        match self.kind {
            Kind::Canary => Workspace::init(root, &self.stack(tree), work, endpoint, backend, run_as),
            Kind::Terraform => {
                for d in ["modules", lz_repo::released::DIR] {
                    if tree.join(d).is_dir() {
                        copy_tree(&tree.join(d), &work.join(d))?;
                    }
                }
                let dir = work.join(&self.root);
                copy_tree(&self.stack(tree), &dir)?;
                crate::deploy::refuse_overrides(work, &dir)?;
                if self.root == LANDING_ZONE {
                    // Chains also start where the state holds instances (a version the release dropped).
                    let state = state_document(endpoint, backend, &run_as)?;
                    lz_platform::mixed_root::write_held(tree, environment, &dir, plan, state.as_ref())?;
                }
                Workspace::init_with(root, &dir, &dir, endpoint, backend, run_as, self.provider.as_ref()).with_context(|| {
                    match &self.provider {
                        Some(p) => format!("the terraform engine with hashicorp/aws {} from {}", p.version, p.mirror.display()),
                        None => "the terraform engine needs hashicorp/aws, which Terraform installs from its registry (none installed in .tools/aws-provider)".into(),
                    }
                })
            }
        }
    }

    /// Whether this engine plans the release's landing-zone root, the one the environment's
    /// offline plan describes (the canary and other stacks plan their own).
    pub fn plans_the_landing_zone(&self) -> bool {
        self.kind == Kind::Terraform && self.root == LANDING_ZONE
    }

    /// How the addresses of this engine's plans of `environment` (release tree `tree`) map to
    /// the offline plan's: the canary plans its own stack; the terraform engine plans pinned
    /// instances under version calls ([`lz_platform::mixed_root::Mapping`]).
    pub fn mapping(&self, tree: &Path, environment: &str) -> Result<lz_platform::mixed_root::Mapping> {
        if self.kind != Kind::Terraform || self.root != LANDING_ZONE {
            return Ok(Default::default());
        }
        lz_platform::mixed_root::Mapping::of_tree(tree, environment)
    }

    /// The variables of the plan: the canary's inputs and overlay, or the landing zone's
    /// overlay alone (`environments/<env>/terraform.tfvars` of the release).
    pub fn vars(&self, tree: &Path, release: &str, t: &Target, bake_seconds: u32) -> Vec<String> {
        let overlay = tree.join("environments").join(&t.environment).join("terraform.tfvars");
        match self.kind {
            Kind::Canary => vec![
                format!("-var=release={release}"),
                format!("-var=environment={}", t.environment),
                format!("-var=account_id={}", t.account_id),
                format!("-var=region={}", t.region),
                format!("-var=bake_seconds={bake_seconds}"),
                format!("-var-file={}", overlay.display()),
            ],
            Kind::Terraform => vec![format!("-var-file={}", overlay.display())],
        }
    }
}

pub use lz_platform::provider_e2e::copy_tree;

/// The Terraform state document of `backend`, read as `run_as` (`None`: no state yet).
fn state_document(endpoint: &str, backend: &Backend, run_as: &RunAs) -> Result<Option<serde_json::Value>> {
    let s3 = lz_platform::reach::with_credentials(endpoint, &backend.region, run_as.credentials())?.s3();
    let what = || format!("s3://{}/{}", backend.bucket, backend.key);
    let bytes = lz_platform::aws::runtime()?.block_on(async {
        match s3.get_object().bucket(&backend.bucket).key(&backend.key).send().await {
            Ok(o) => anyhow::Ok(Some(o.body.collect().await.with_context(what)?.into_bytes())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(crate::aws_error(e)).with_context(|| format!("cannot read {}", what())),
        }
    })?;
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(|e| anyhow::anyhow!("{}:{}:{}: not a Terraform state: {e}", what(), e.line(), e.column())))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terraform engine plans a service pinned to an older module version under its version
    /// call; its addresses map back to the offline plan's. The canary plans its own stack.
    #[test]
    fn the_terraform_engine_maps_a_pinned_instance_to_its_offline_address() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("modules")).unwrap();
        let catalog = lz_repo::catalog::CATALOG;
        std::fs::copy(root.join(catalog), t.join(catalog)).unwrap();
        copy_tree(&root.join("environments"), &t.join("environments")).unwrap();
        std::fs::create_dir_all(t.join("released/trading-service/1.0.0")).unwrap();
        std::fs::write(t.join("environments/prod/pins.toml"), "[pins.trading-service]\norder-gateway = \"1.0.0\"\n").unwrap();
        let address = "module.service_v1_0_0[\"order-gateway\"].aws_iam_role_policy.task";
        let offline = "module.service[\"order-gateway\"].aws_iam_role_policy.task";
        assert_eq!(Engine::terraform(&root).mapping(t, "prod").unwrap().offline(address), offline);
        assert_eq!(Engine::canary().mapping(t, "prod").unwrap().offline(address), address);
        // An environment without pins: its instances may come back from a version call.
        assert_eq!(Engine::terraform(&root).mapping(t, "dev").unwrap().offline(address), offline);
    }
}
