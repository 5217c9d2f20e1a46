//! Progress display: spinners on anything slow, hidden when not on a terminal or under CI.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress output should be drawn: a terminal on stderr and not CI.
pub fn interactive() -> bool {
    std::env::var_os("CI").is_none() && std::io::stderr().is_terminal()
}

/// A spinner with a message; hidden (but still usable) when not interactive.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if interactive() {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_message(message.into());
    bar
}

/// A progress bar over `len` steps with a message; hidden (but still usable) when not interactive.
pub fn bar(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if interactive() {
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_message(message.into());
    bar
}
