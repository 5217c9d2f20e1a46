//! Release build of `cargo xtask bench properties`: `bench_properties [REPO_ROOT]`.
use std::path::PathBuf;
use std::process::ExitCode;

/// The allocator of the shipped `xtask` binary, so the figures are those of the real tool.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    match lz_baseline::props::bench(&root, &mut std::io::stdout()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
