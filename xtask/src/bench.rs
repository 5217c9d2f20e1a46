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
    /// The evidence chain at scale on S3 (LocalStack): `verify`, `approve`, `promote` and the
    /// provenance lookup, from scratch and incrementally, each with its goal, peak memory and
    /// the load average
    Chain {
        /// Chain lengths (records; 1000,10000,100000 when neither this nor --releases is given)
        #[arg(long, value_delimiter = ',')]
        records: Vec<usize>,
        /// Releases on the chain, per round (each with its release record and archive, one in ten
        /// deployed to dev): the verification and the provenance lookup over that many releases
        #[arg(long, value_delimiter = ',')]
        releases: Vec<usize>,
    },
    /// Generated overlays rendered and checked per second
    Properties,
    /// Lead time of a change through dev -> prod against LocalStack
    Promotion,
    /// A service team's golden path from a fresh checkout: service new, check, release,
    /// promote to dev in a rehearsal (goal < 2 min)
    GoldenPath,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    // Figures are only meaningful in an optimised build: a debug build hands over to the
    // release build of the same benchmark (the properties benchmark runs its own release
    // example; the promotion benchmark is bound by LocalStack and Terraform, not by this code).
    let name = match args.what {
        What::Render => Some("render"),
        What::Policy => Some("policy"),
        What::Evidence { .. } => Some("evidence"),
        What::Chain { .. } => Some("chain"),
        What::Properties | What::Promotion | What::GoldenPath => None,
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
            What::Chain { records, releases } => {
                let list = |v: &[usize]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                let mut v = Vec::new();
                if !records.is_empty() {
                    v.extend(["--records".to_string(), list(records)]);
                }
                if !releases.is_empty() {
                    v.extend(["--releases".to_string(), list(releases)]);
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
        What::Evidence { s3_records, s3_only } => {
            println!("{} build, {} before the first figure", if cfg!(debug_assertions) { "debug" } else { "release" }, crate::measure::load());
            let code = crate::evidence::bench(root, &s3_records, s3_only)?;
            println!("{} after the last figure", crate::measure::load());
            crate::measure::print_peak();
            Ok(code)
        }
        What::Chain { mut records, releases } => {
            println!("{} build, {}", if cfg!(debug_assertions) { "debug" } else { "release" }, crate::measure::load());
            if records.is_empty() && releases.is_empty() {
                records = vec![1000, 10000, 100000];
            }
            crate::evidence::bench_chain(root, &records, &releases)?;
            crate::measure::print_peak();
            Ok(ExitCode::SUCCESS)
        }
        What::Properties => crate::baseline::bench_properties(root),
        What::Promotion => crate::promote::bench(root),
        What::GoldenPath => crate::service::bench(root),
    }
}
