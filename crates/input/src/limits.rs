//! The stated limits of the harness's inputs (README, "Limits"). An input over a limit is
//! refused at once with exit code 2 and the limit's name; nothing is read or evaluated past it.
//!
//! The plan limits are sized from the performance issue's figures: a genuine plan of 4,464
//! services is about 100 MB, and a service is 4 resources of `modules/trading-service` plus
//! its share of rules, so some 20,000 to 45,000 resource changes. The plan limits are five
//! times that (answered, if slowly) and refuse only inputs no landing zone produces.

/// A configuration file (governance register, catalog, overlay, tfvars, `.tf`, `env.toml`).
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// A plan JSON file (`policy --plan`, `terraform show -json` output).
pub const MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// Resource changes in one plan.
pub const MAX_RESOURCES: usize = 250_000;

/// Nesting depth of a JSON document (serde_json's own recursion limit, which the harness
/// states rather than overrides).
pub const MAX_JSON_DEPTH: usize = 128;

/// Bracket nesting of a configuration file (HCL, tfvars, TOML): real ones stay under 20.
pub const MAX_NESTING: usize = 256;

/// Length of an id (environment, release digest, secret, identity, module, service, run).
pub const MAX_ID_LEN: usize = 128;

/// Human form of a byte count: `16 MiB`, `512 MiB`.
pub fn bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}
