//! Arbitrary bytes as a configuration: everything before the first NUL byte is `main.tf`,
//! everything after it (if there is a NUL) is `terraform.tfvars`. The renderer may reject the
//! input with a `RenderError`, but must not panic, and an error must say where it is.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (main_tf, tfvars) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("main.tf"), main_tf).expect("writing main.tf");
    if let Some(tfvars) = tfvars {
        std::fs::write(dir.path().join("terraform.tfvars"), tfvars)
            .expect("writing terraform.tfvars");
    }
    match tfrender::render_dir(dir.path(), &tfrender::RenderOptions::default()) {
        Ok(plan) => {
            // Whatever renders must also normalise and serialise.
            let normalized = tfrender::normalize(&plan);
            assert!(!normalized.to_string().is_empty());
        }
        Err(err) => {
            assert!(!err.message.trim().is_empty(), "empty error message");
            let _ = err.to_string();
        }
    }
});
