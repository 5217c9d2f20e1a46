//! Module pins (issue 32): a pin must name a version the module was released at. A release
//! author who pins a service to a version no catalog or CHANGELOG knows (to slip it in as a
//! first "adoption" outside any rollout) gets a gate finding naming pins.toml and the line.

mod common;

use common::mini_repo;
use lz_platform::pins;

#[test]
fn a_pin_of_a_version_nobody_released_is_a_finding_with_its_line() {
    let (_d, root) = mini_repo();
    let path = root.join("environments/prod").join(lz_repo::rollout::PINS_FILE);
    // The CHANGELOG's 1.0.0 is known.
    std::fs::write(&path, "[pins.bucket]\nledger = \"1.0.0\"\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert!(f.is_empty(), "{f:?}");
    // 9.9.9: semver, not revoked, but released nowhere.
    std::fs::write(&path, "# staged\n[pins.bucket]\nledger = \"9.9.9\"\n").unwrap();
    let (f, _) = pins::check(&root).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    let text = f.0[0].to_string();
    assert!(text.starts_with("environments/prod/pins.toml:3: "), "{text}");
    assert!(text.contains("ledger in prod pins bucket@9.9.9, a version neither the catalog nor modules/bucket/CHANGELOG.md knows"), "{text}");
}
