//! How an error is printed: an AWS SDK or Terraform error summarised on one line with its cause
//! and fix unless `-v` (`lz_platform::errsum`), any other error in full.

/// `-v`: print AWS SDK and Terraform errors in full.
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`error_text`] as `-v` says, for a command that reports an error and goes on.
pub fn error_line(err: &anyhow::Error) -> String {
    error_text(err, VERBOSE.load(std::sync::atomic::Ordering::Relaxed))
}

/// An error as printed: an AWS SDK or Terraform error on one line with its cause and fix
/// (`lz_platform::errsum`) unless `-v`; any other error in full.
pub fn error_text(err: &anyhow::Error, verbose: bool) -> String {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    match lz_platform::errsum::summarise(&chain) {
        Some(summary) if !verbose => format!("{} (full error: -v)", summary.line()),
        _ => format!("{err:#}"),
    }
}

/// `-v` given: print errors in full from here on.
pub fn set_verbose(verbose: bool) {
    VERBOSE.store(verbose, std::sync::atomic::Ordering::Relaxed);
}
