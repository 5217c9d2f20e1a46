//! The evidence benchmark without the rest of the harness:
//! `cargo run --release -p lz-evidence --example bench`. `cargo xtask bench evidence` runs the
//! same code.
fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    lz_evidence::bench::run(&root)
}
