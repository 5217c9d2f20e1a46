//! The repository model, below every crate but `lz-input` (whose file readers it uses): what
//! the repository is made of, read in one place so that the renderer, the checks, policy,
//! evidence and change control do not each keep a copy.
//!
//! - [`ENVIRONMENTS`]: the environments in promotion order, and [`env::present`] (those with an
//!   overlay in a tree);
//! - [`env::Environment`]: an environment's `env.toml` and `backend.hcl`, parsed once;
//! - [`catalog`]: the module catalog `modules/catalog.toml`;
//! - [`paths`]: where the governance and policy files are;
//! - [`diag`]: `line_of`, `file:line:col` for TOML errors, TOML files decoded with them, and a
//!   [`diag::Place`] in a source file;
//! - [`date`]: today's date from the system clock (for reports, never for decisions);
//! - [`patterns`]: the secret patterns redaction (reports and the archive) and the scan share.
//!
//! It depends on no workspace crate but `lz-input` (`crates/repo/tests/tidy.rs` guards it).
pub mod catalog;
pub mod date;
pub mod diag;
pub mod env;
pub mod paths;
pub mod patterns;
pub mod released;
pub mod rollout;

/// The environments of the repository, in promotion order. Defined in `lz-input`, which
/// validates environment arguments against it and depends on nothing; every other crate
/// names it through here.
pub use lz_input::ENVIRONMENTS;

pub use diag::{line_of, parse_toml, read_toml, toml_error};
pub use env::Environment;
