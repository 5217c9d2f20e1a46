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
    /// Evidence append, verify and query throughput; verify, approve and promote on S3 chains
    Evidence {
        /// Lengths of the S3 (LocalStack) chains to time `verify`, `approve` and `promote` on
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        s3_records: Vec<usize>,
        /// Only the S3 part (skip the local-file figures)
        #[arg(long)]
        s3_only: bool,
    },
    /// Generated overlays rendered and checked per second
    Properties,
    /// Lead time of a change through dev -> prod against LocalStack
    Promotion,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    // Figures are only meaningful in an optimised build: a debug build hands over to the
    // release build of the same benchmark (the properties benchmark runs its own release
    // example; the promotion benchmark is bound by LocalStack and Terraform, not by this code).
    let name = match args.what {
        What::Render => Some("render"),
        What::Policy => Some("policy"),
        What::Evidence { .. } => Some("evidence"),
        What::Properties | What::Promotion => None,
    };
    if let Some(name) = name.filter(|_| cfg!(debug_assertions) && std::env::var_os("LZ_BENCH_DEBUG").is_none()) {
        println!("building the benchmark in release (set LZ_BENCH_DEBUG=1 to measure this debug build instead)");
        let (sh, cargo) = (crate::sh::at(root)?, crate::sh::cargo());
        let extra: Vec<String> = match &args.what {
            What::Evidence { s3_records, s3_only } => {
                let sizes: Vec<String> = s3_records.iter().map(|n| n.to_string()).collect();
                let mut v = vec!["--s3-records".to_string(), sizes.join(",")];
                if *s3_only {
                    v.push("--s3-only".into());
                }
                v
            }
            _ => Vec::new(),
        };
        let ok = xshell::cmd!(sh, "{cargo} run --quiet --release --package xtask -- bench {name} {extra...}").env("LZ_ROOT", root).run().is_ok();
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    match args.what {
        What::Render => crate::render::bench(root),
        What::Policy => crate::policy::bench(root),
        What::Evidence { s3_records, s3_only } => crate::evidence::bench(root, &s3_records, s3_only),
        What::Properties => crate::baseline::bench_properties(root),
        What::Promotion => crate::promote::bench(root),
    }
}
