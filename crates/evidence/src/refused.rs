//! [`Refused`]: the error kind of a refusal (exit code 2 at the command line), below every
//! module that refuses, so that a store, the witness and the archive share it without naming
//! each other.

/// Why the archive refused to sign a record: the signer may not sign it, or it breaks a rule
/// verification would reject it for (malformed fields are plain errors); also a store or a
/// witness refusing to act (a retention below the floor, a signer who may not witness).
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}
