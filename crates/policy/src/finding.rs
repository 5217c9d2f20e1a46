//! What a finding is: the rule it breaks at an address, how severe that is, and where in the
//! sources the address comes from. Every other module of the crate (evaluation, the exceptions
//! register, the secret scan, the reports) builds on it and it builds on none of them.
use lz_repo::diag::Place;
use serde::Serialize;

/// One finding: a rule violated (or unverifiable) at an address.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: String,
    pub severity: String,
    pub address: String,
    pub message: String,
    pub excepted: bool,
    pub exception_id: Option<String>,
    /// The control's value is unknown until apply and could not be traced.
    pub unverifiable: bool,
}

/// The rank of a severity, `critical` highest; 0 for a word that is no severity.
pub fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Where one resource comes from: the place to fix first (the overlay entry that produced it,
/// or its declaration) and its declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    pub place: Place,
    pub declaration: Place,
    /// `services["fx-pricing"]`: the overlay entry, when the resource comes from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}
