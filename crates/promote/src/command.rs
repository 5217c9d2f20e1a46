//! One process command's scope (a leaf: it reads no chain and no clock). While a [`Command`] is
//! alive, what a command reads once stands for the rest of it: the verification of an unchanged
//! S3 chain ([`crate::verified::reuse`]) and the evidence store's server time
//! ([`crate::server_date::store_date`]). [`Command::begin`] starts a new epoch, so nothing one
//! command read is taken by the next.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static EPOCH: AtomicU64 = AtomicU64::new(0);
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// A decision command in progress: while one is alive, its reads share one verification of an
/// unchanged S3 chain and one reading of the evidence store's server time. Dropped at the
/// command's end.
pub struct Command(());

impl Command {
    /// Starts a command: what any earlier command read is not reused by this one.
    pub fn begin() -> Command {
        EPOCH.fetch_add(1, Ordering::SeqCst);
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Command(())
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The epoch of the command in progress; `None` outside a command.
pub(crate) fn epoch() -> Option<u64> {
    (ACTIVE.load(Ordering::SeqCst) > 0).then(|| EPOCH.load(Ordering::SeqCst))
}
