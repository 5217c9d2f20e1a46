//! `cargo xtask localstack up|down|status`.

use std::path::Path;
use std::process::ExitCode;

use lz_platform::localstack::{self, Up};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Start LocalStack in host mode on 127.0.0.1:4566 and wait until healthy
    Up,
    /// Stop the LocalStack this harness started
    Down,
    /// Print the running version (exit 1 when not running)
    Status,
}

pub fn run(root: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Up => match localstack::up(root)? {
            Up::AlreadyRunning(h) => println!("localstack {} already running at {}", h.version, localstack::ENDPOINT),
            Up::Started { pid, health } => println!(
                "localstack {} started at {} (pid {pid}, log {})",
                health.version,
                localstack::ENDPOINT,
                localstack::log_file(root).display()
            ),
        },
        Action::Down => {
            if localstack::down(root)? {
                println!("localstack stopped");
            } else {
                println!("no LocalStack started by this harness is running");
            }
        }
        Action::Status => match localstack::probe(localstack::ENDPOINT) {
            Ok(h) => {
                let ours = localstack::our_pid(root).map(|p| format!(", pid {p} started by this harness")).unwrap_or_default();
                let running: Vec<&String> = h.services.iter().filter(|(_, v)| v == &"running").map(|(k, _)| k).collect();
                let edition = if h.edition == "unknown" { String::new() } else { format!(" ({})", h.edition) };
                println!("localstack {}{edition} at {}{ours}", h.version, localstack::ENDPOINT);
                println!("services running: {}", if running.is_empty() { "none yet (started on first use)".to_string() } else { format!("{running:?}") });
                if h.elapsed >= localstack::SLOW {
                    println!("slow: the health endpoint took {:.1} s to answer", h.elapsed.as_secs_f64());
                }
            }
            Err(e) => {
                println!("localstack is not running: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
