//! Approved baselines of the landing zone's plans, the reviewer's diff against them, and the
//! property tests of the overlay invariants.
//!
//! # Baselines
//!
//! Every environment (`environments/` with `environments/<env>/terraform.tfvars`) and every
//! module's `examples/basic` has an insta snapshot under `crates/baseline/tests/snapshots/`
//! (`env-<env>.snap`, `module-<name>.snap`): the normalized offline plan in the text form of
//! [`view`]: one block per resource instance and output, sorted by address, one
//! `path = value` line per attribute, sensitive values as `[sensitive]`, unknown values as
//! `(known after apply)`. The first lines name the subject and the catalog versions of the
//! modules it uses. [`stale_baselines`] reports every snapshot that the working tree no longer
//! matches.
//!
//! # Diff JSON
//!
//! [`diff()`] compares two [`PlanView`]s; serialized with serde it is
//!
//! ```json
//! {
//!   "resources": [
//!     {
//!       "address": "module.state_backend.module.bucket.aws_s3_bucket_versioning.this",
//!       "type": "aws_s3_bucket_versioning",
//!       "change": "changed",
//!       "attributes": [
//!         {"path": "versioning_configuration[0].status", "old": "Enabled", "new": "Suspended"}
//!       ]
//!     }
//!   ],
//!   "outputs": [ /* same shape, "type": "output", paths start with "value" */ ]
//! }
//! ```
//!
//! `change` is `added`, `removed` or `changed`; only resources with a difference appear, in
//! address order. `attributes` holds every path of an added or removed resource, and the
//! changed paths of a changed one. `old` is absent for a path that is new, `new` for a path
//! that is gone. Values are JSON scalars (or an empty list or map); an unknown value is the
//! string `"(known after apply)"` and a sensitive one `"[sensitive]"`. Attribute paths use
//! `.key` for identifier keys, `["key"]` for any other key and `[n]` for list items; a string
//! attribute holding a JSON document (a policy) is expanded in place, so its paths continue
//! into the document (`policy.Statement[0].Effect`).
//!
//! # Invariants
//!
//! [`checks`] holds the invariants over rendered plans, [`overlay`] the generator of overlays
//! in (and just outside) the allow-listed domain, and [`props`] the property runner used by the
//! tests and by `cargo xtask bench properties`. How an allow-listed variable maps to the
//! attribute paths it may change is documented in [`checks::INFLUENCE`].
pub mod checks;
pub mod bench;
pub mod diff;
pub mod overlay;
pub mod props;
pub mod snapshot;
pub mod update;
pub mod view;

pub use diff::{diff, diff_plans, AttributeChange, Change, Diff, ResourceDiff};
pub use snapshot::{
    approved_view, baseline_text, env_diff, environments, render_env, stale_baselines, subjects, StaleBaseline,
    Subject, SNAPSHOT_DIR, UPDATE_HINT,
};
pub use view::{view, Leaf, PlanView};

/// The order in which a release is promoted (`lz_repo::ENVIRONMENTS`).
pub const PROMOTION_ORDER: [&str; 5] = lz_repo::ENVIRONMENTS;
