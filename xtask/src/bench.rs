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
        /// Run only these steps of each round (the chain is always built and witnessed first)
        #[arg(long, value_delimiter = ',', value_name = "STEPS", value_parser = step, conflicts_with = "skip", long_help = lz_operate::bench_chain::steps_help())]
        only: Vec<String>,
        /// Run every default step but these
        #[arg(long, value_delimiter = ',', value_name = "STEPS", value_parser = step, long_help = lz_operate::bench_chain::steps_help())]
        skip: Vec<String>,
    },
    /// Generated overlays rendered and checked per second
    Properties,
    /// Lead time of a change through dev -> prod against LocalStack
    Promotion,
    /// A service team's golden path from a fresh checkout: service new, check, release,
    /// promote to dev in a rehearsal (goal < 2 min)
    GoldenPath,
}

/// A step name of `bench chain --only/--skip` (an unknown or empty one: a usage error, exit
/// code 2, naming the steps).
fn step(name: &str) -> Result<String, String> {
    lz_operate::bench_chain::Steps::step(name).map(String::from)
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
            What::Chain { records, releases, only, skip } => {
                let list = |v: &[usize]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                let mut v = Vec::new();
                if !records.is_empty() {
                    v.extend(["--records".to_string(), list(records)]);
                }
                if !releases.is_empty() {
                    v.extend(["--releases".to_string(), list(releases)]);
                }
                for (flag, steps) in [("--only", only), ("--skip", skip)] {
                    if !steps.is_empty() {
                        v.extend([flag.to_string(), steps.join(",")]);
                    }
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
        What::Chain { mut records, releases, only, skip } => {
            // Checked by clap already; a library caller's error names the steps too.
            let steps = match lz_operate::bench_chain::Steps::select(&only, &skip) {
                Ok(steps) => steps,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            println!("{} build, {}", if cfg!(debug_assertions) { "debug" } else { "release" }, crate::measure::load());
            if records.is_empty() && releases.is_empty() {
                records = vec![1000, 10000, 100000];
            }
            crate::evidence::bench_chain(root, &records, &releases, &steps)?;
            crate::measure::print_peak();
            Ok(ExitCode::SUCCESS)
        }
        What::Properties => crate::baseline::bench_properties(root),
        What::Promotion => crate::promote::bench(root),
        What::GoldenPath => crate::service::bench(root),
    }
}

#[cfg(test)]
mod tests {
    use clap::Args as _;

    fn parse(args: &[&str]) -> Result<clap::ArgMatches, clap::Error> {
        super::Args::augment_args(clap::Command::new("bench")).try_get_matches_from(["bench"].iter().chain(args))
    }

    /// `bench chain --only/--skip`: an unknown step or an empty list is a usage error (exit
    /// code 2) naming the steps there are; the two together are refused; known names parse.
    #[test]
    fn chain_steps_are_checked_by_name() {
        for bad in [&["chain", "--only", "verfy"][..], &["chain", "--skip", "verify,nope"], &["chain", "--only", ""], &["chain", "--only", "verify,"], &["chain", "--only"]] {
            let e = parse(bad).expect_err(&format!("{bad:?}"));
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
            if bad.len() == 3 {
                let text = e.to_string();
                assert!(text.contains("verify, unseeded, witness, verdicts, provenance, approve, promote, parts"), "{bad:?}: {text}");
            }
        }
        let e = parse(&["chain", "--only", "verify", "--skip", "parts"]).expect_err("both");
        assert_eq!(e.exit_code(), 2, "{e}");
        let m = parse(&["chain", "--records", "100000", "--only", "verify,promote"]).unwrap();
        let (_, chain) = m.subcommand().unwrap();
        let only: Vec<&String> = chain.get_many::<String>("only").unwrap().collect();
        assert_eq!(only, ["verify", "promote"]);
    }
}
