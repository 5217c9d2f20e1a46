//! The rule packages evaluated apart, on several cores (issue 29: `policy --plan` as one process
//! against checkov). Each part is an engine of its own holding every package that is not a
//! rule package (the library, `lz.lib`) and its share of the rule packages (`lz.rules.*`); the
//! parts are parsed, prepared and evaluated on a thread each, and each rule's findings are read
//! from the part holding its package.
//!
//! That gives the same findings as one engine holding everything only when no policy reads a
//! rule package other than its own: a rule package of another part is absent from an engine,
//! and reading it would read nothing. [`reads_across_packages`] names every place a policy
//! could (any reference to `data.lz.rules` but the file's own package, and any reference to
//! `data` or `data.lz` as a whole); where it names one, [`plan`] keeps one engine. The library's
//! rules are evaluated in every part that reads them (memoized per engine), so a split costs
//! more CPU time than one engine and less wall time.
use std::collections::BTreeSet;

pub use crate::rules::{is_rule_package, RULES};
use crate::rules::PolicyTree;

/// At most this many parts, however many cores: each part parses, prepares and evaluates the
/// library again.
pub const MAX_PARTS: usize = 4;

/// The places where a policy (test files aside) reads, or could read, a rule package other than
/// its own: `file:line: text`. Empty when the rule packages can be evaluated apart. The text is
/// read as Rego tokens are (comments and the insides of strings are no code); `data` must be
/// followed by `.NAME`, and `data.lz` by `.NAME` other than `rules`, or by `.rules.` and the
/// file's own package.
pub fn reads_across_packages(tree: &PolicyTree) -> Vec<String> {
    static WORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let word = WORD.get_or_init(|| regex::Regex::new(r"\bdata\b").expect("a valid pattern"));
    let mut out = Vec::new();
    for f in tree.files.iter().filter(|f| !f.is_test) {
        let line_of = |at: usize| f.text[..at].matches('\n').count();
        let line_text = |i: usize| f.text.lines().nth(i).unwrap_or("").trim().to_string();
        let code = match crate::engine_plan::code_only(&f.text) {
            Ok(code) => code,
            Err(at) => {
                let i = line_of(at);
                out.push(format!("{}:{}: a string that does not end (the scan cannot read the file): {}", f.rel, i + 1, line_text(i)));
                continue;
            }
        };
        let own = format!("data.{}", f.package);
        for m in word.find_iter(&code) {
            // An attribute named `data` (`x.data`) is no reference to the data document.
            if code[..m.start()].ends_with('.') {
                continue;
            }
            let rest = &code[m.start()..];
            if !reads_only_its_own(rest, &own) {
                let i = line_of(m.start());
                out.push(format!("{}:{}: {}", f.rel, i + 1, line_text(i)));
            }
        }
    }
    out
}

/// Whether the reference at the start of `rest` (`data...`) reads no rule package but the one
/// `own` (`data.<package>`) names.
fn reads_only_its_own(rest: &str, own: &str) -> bool {
    // `data` alone, `data[...]`, `data .x`: the document as a whole.
    let Some(path) = rest.strip_prefix("data.") else {
        return false;
    };
    let mut names = path.split('.');
    let Some(first) = names.next().and_then(whole_word) else {
        return false;
    };
    if first != "lz" {
        return true;
    }
    // `data.lz` followed by anything but `.NAME`.
    if first.len() != path.split('.').next().map_or(0, str::len) {
        // `data.lz` ends there (`data.lz)`, `data.lz\n`).
        return false;
    }
    let Some(second) = names.next().and_then(whole_word) else {
        return false;
    };
    if second != "rules" {
        return true;
    }
    // `data.lz.rules...`: only the file's own package, as a whole name.
    rest.strip_prefix(own).is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '['))
}

/// The identifier `s` starts with, when it is followed by `.` or by no name character and no
/// `[`: `lz` of `lz.rules`, of `lz` and of `lz)`; nothing for `lz[`.
fn whole_word(s: &str) -> Option<&str> {
    let n = s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if n == 0 {
        return None;
    }
    match s.as_bytes().get(n) {
        Some(b'[') => None,
        _ => Some(&s[..n]),
    }
}

/// The rule packages of `tree` in `n` groups (fewer when there are fewer packages), each group
/// the packages of one part, of about equal size: the packages by their code's length, largest
/// first, each to the group with the least so far. Every rule package is in exactly one group.
pub fn groups(tree: &PolicyTree, n: usize) -> Vec<BTreeSet<String>> {
    let mut sizes: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in tree.files.iter().filter(|f| !f.is_test && is_rule_package(&f.package)) {
        *sizes.entry(f.package.as_str()).or_default() += f.text.len();
    }
    let mut packages: Vec<(&str, usize)> = sizes.into_iter().collect();
    packages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let n = n.clamp(1, packages.len().max(1));
    let mut out: Vec<(usize, BTreeSet<String>)> = vec![(0, BTreeSet::new()); n];
    for (package, size) in packages {
        if let Some(least) = out.iter_mut().min_by_key(|(total, _)| *total) {
            least.0 += size;
            least.1.insert(package.to_string());
        }
    }
    out.into_iter().map(|(_, set)| set).filter(|s| !s.is_empty()).collect()
}

/// The parts to evaluate `tree` in on `cores` cores: one (`None`, every package) when the rule
/// packages cannot be evaluated apart ([`reads_across_packages`]) or there is one core, else
/// up to [`MAX_PARTS`] groups ([`groups`]).
pub fn plan(tree: &PolicyTree, cores: usize) -> Vec<Option<BTreeSet<String>>> {
    let n = cores.min(MAX_PARTS);
    if n < 2 || !reads_across_packages(tree).is_empty() {
        return vec![None];
    }
    let groups = groups(tree, n);
    if groups.len() < 2 {
        return vec![None];
    }
    groups.into_iter().map(Some).collect()
}

/// The cores this process may run on (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_that_stay_inside_the_own_package_or_the_library() {
        let own = "data.lz.rules.s3.encryption";
        for ok in [
            "data.lz.lib",
            "data.lz.lib.resources",
            "data.lz.settings)",
            "data.lz.controls\n",
            "data.lz.rules.s3.encryption.deny",
            "data.lz.rules.s3.encryption\n",
            "data.other.x",
        ] {
            assert!(reads_only_its_own(ok, own), "{ok}");
        }
        for bad in [
            "data",
            "data\n",
            "data[\"lz\"]",
            "data.lz",
            "data.lz\n",
            "data.lz[\"rules\"]",
            "data.lz.rules",
            "data.lz.rules\n",
            "data.lz.rules[x]",
            "data.lz.rules.s3",
            "data.lz.rules.s3.encryption2.deny",
            "data.lz.rules.s3.encryption[\"deny\"]",
            "data.lz.rules.iam.no_users.deny",
        ] {
            assert!(!reads_only_its_own(bad, own), "{bad}");
        }
    }
}
