//! The service team's golden path, below `cargo xtask service` and `cargo xtask catalog show`:
//!
//! - [`new`]: a new service's entry in the overlays, its secrets' rotation entries, the plan
//!   difference it makes (the approved baselines are brought up to date) and the gates the change
//!   will meet (policy, risk tier and the approvals that tier needs);
//! - [`card`]: what a service team needs to consume a module: inputs and outputs, the policy
//!   rules that judge its resources, versions with their CHANGELOG and tag, and a pinned example;
//! - [`golden`]: the whole path driven through the shipped binary (bench and test).
//!
//! Reading the overlays' services is `lz_platform::services`.
pub mod card;
pub mod golden;
pub mod new;
