//! `cargo xtask bench <what>`: each benchmark prints its figures and the ratio against the
//! real peer in one run. Speed goals live here, never in timed tests.
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Offline renderer against real Terraform
    Render,
    /// Policy evaluation against checkov
    Policy,
    /// Evidence append, verify and query throughput
    Evidence,
    /// Generated overlays rendered and checked per second
    Properties,
    /// Lead time of a change through dev -> prod against LocalStack
    Promotion,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Render => crate::render::bench(root),
        What::Policy => crate::policy::bench(root),
        What::Evidence => crate::evidence::bench(root),
        What::Properties => crate::baseline::bench_properties(root),
        What::Promotion => crate::promote::bench(root),
    }
}
