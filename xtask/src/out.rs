//! Writing a command's output to stdout: a closed pipe (`| head`) ends it quietly, never with a
//! panic or an error.
use anyhow::Context;

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}

/// [`emit`] of `text` as one line.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    emit(&format!("{text}\n"))
}
