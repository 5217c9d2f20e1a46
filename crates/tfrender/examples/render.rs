//! Render a directory: `cargo run -p tfrender --example render -- DIR [--normalized]`.
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: render DIR [--normalized]");
        return std::process::ExitCode::from(2);
    };
    match tfrender::render_dir(std::path::Path::new(dir), &Default::default()) {
        Ok(p) => {
            let p = if args.iter().any(|a| a == "--normalized") { tfrender::normalize(&p) } else { p };
            println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
