//! Render a directory: `cargo run -p tfrender --example render -- DIR [--var-file F]... [--normalized]`.
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: render DIR [--var-file F]... [--normalized]");
        return std::process::ExitCode::from(2);
    };
    let mut opts = tfrender::RenderOptions::default();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--var-file" {
            if let Some(f) = it.next() {
                opts.var_files.push(f.into());
            }
        }
    }
    match tfrender::render_dir(std::path::Path::new(dir), &opts) {
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
