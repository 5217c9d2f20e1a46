//! The platform harness behind `cargo xtask`: tool bootstrap (Terraform, LocalStack), AWS SDK
//! clients for LocalStack, the module catalog, overlays and the offline PR gate.
//!
//! Everything here takes the repository root as a parameter; nothing reads the current
//! directory, so tests can run the checks against a mutated copy of the repository.

pub mod aws;
pub mod catalog;
pub mod docs;
pub mod findings;
pub mod fmt;
pub mod hcl;
pub mod layout;
pub mod localstack_override;
pub mod localstack;
pub mod overlays;
pub mod progress;
pub mod references;
pub mod shared_validations;
pub mod tfrun;
pub mod tools;
pub mod workflows;

pub use findings::{Finding, Findings};

/// The five environments, in promotion order (defined once, in `lz-input`, which validates
/// environment arguments against it).
pub use lz_input::ENVIRONMENTS;

/// Today's UTC date as `YYYY-MM-DD`, from the system clock (no variable overrides it).
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_418), (2025, 11, 26));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
