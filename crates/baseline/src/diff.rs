//! What a change does to a plan, per resource and attribute path.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::view::{Block, Leaf, PlanView};

/// The difference between two plan views. See the crate docs for the JSON shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub resources: Vec<ResourceDiff>,
    pub outputs: Vec<ResourceDiff>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceDiff {
    pub address: String,
    /// Resource type, `output` for outputs.
    #[serde(rename = "type")]
    pub kind: String,
    pub change: Change,
    pub attributes: Vec<AttributeChange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One attribute path; `old` is absent for an added path, `new` for a removed one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }

    pub fn count(&self, change: Change) -> usize {
        self.resources.iter().filter(|r| r.change == change).count()
    }

    /// The text a reviewer reads: `+` added, `-` removed, `~` changed, then one line per path.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for r in self.resources.iter().chain(&self.outputs) {
            let sign = match r.change {
                Change::Added => '+',
                Change::Removed => '-',
                Change::Changed => '~',
            };
            let _ = writeln!(out, "{sign} {}", r.address);
            for a in &r.attributes {
                let show = |v: &Option<Value>| v.as_ref().map(render).unwrap_or_else(|| "(absent)".into());
                match r.change {
                    Change::Added => {
                        let _ = writeln!(out, "    {} = {}", a.path, show(&a.new));
                    }
                    Change::Removed => {
                        let _ = writeln!(out, "    {} = {}", a.path, show(&a.old));
                    }
                    Change::Changed => {
                        let _ = writeln!(out, "    {}: {} -> {}", a.path, show(&a.old), show(&a.new));
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "{} resources: {} added, {} removed, {} changed; {} outputs changed",
            self.resources.len(),
            self.count(Change::Added),
            self.count(Change::Removed),
            self.count(Change::Changed),
            self.outputs.len()
        );
        out
    }
}

fn render(v: &Value) -> String {
    match v.as_str() {
        Some(s @ (crate::view::UNKNOWN | crate::view::SENSITIVE)) => s.to_string(),
        _ => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// Per resource (and output): added, removed, or changed with the changed attribute paths.
/// Resources appear in address order; attribute paths in the new plan's order, then the
/// removed ones in the old plan's order.
pub fn diff(old: &PlanView, new: &PlanView) -> Diff {
    let olds: BTreeMap<&str, &Block> = old.blocks.iter().map(|b| (b.address.as_str(), b)).collect();
    let news: BTreeMap<&str, &Block> = new.blocks.iter().map(|b| (b.address.as_str(), b)).collect();
    let mut addresses: Vec<&str> = olds.keys().chain(news.keys()).copied().collect();
    addresses.sort();
    addresses.dedup();
    let mut out = Diff::default();
    for addr in addresses {
        let rd = match (olds.get(addr), news.get(addr)) {
            (None, Some(n)) => ResourceDiff {
                address: addr.into(),
                kind: n.kind(),
                change: Change::Added,
                attributes: n
                    .attrs
                    .iter()
                    .map(|(p, l)| AttributeChange {
                        path: p.clone(),
                        old: None,
                        new: Some(l.to_json()),
                    })
                    .collect(),
            },
            (Some(o), None) => ResourceDiff {
                address: addr.into(),
                kind: o.kind(),
                change: Change::Removed,
                attributes: o
                    .attrs
                    .iter()
                    .map(|(p, l)| AttributeChange {
                        path: p.clone(),
                        old: Some(l.to_json()),
                        new: None,
                    })
                    .collect(),
            },
            (Some(o), Some(n)) => {
                let attributes = attr_changes(o, n);
                if attributes.is_empty() {
                    continue;
                }
                ResourceDiff {
                    address: addr.into(),
                    kind: n.kind(),
                    change: Change::Changed,
                    attributes,
                }
            }
            (None, None) => continue,
        };
        if rd.kind == "output" {
            out.outputs.push(rd);
        } else {
            out.resources.push(rd);
        }
    }
    out
}

fn attr_changes(o: &Block, n: &Block) -> Vec<AttributeChange> {
    let om: BTreeMap<&str, &Leaf> = o.attrs.iter().map(|(p, l)| (p.as_str(), l)).collect();
    let nm: BTreeMap<&str, &Leaf> = n.attrs.iter().map(|(p, l)| (p.as_str(), l)).collect();
    let mut out = Vec::new();
    for (p, l) in &n.attrs {
        match om.get(p.as_str()) {
            Some(ol) if *ol == l => {}
            ol => out.push(AttributeChange {
                path: p.clone(),
                old: ol.map(|x| x.to_json()),
                new: Some(l.to_json()),
            }),
        }
    }
    for (p, l) in &o.attrs {
        if !nm.contains_key(p.as_str()) {
            out.push(AttributeChange {
                path: p.clone(),
                old: Some(l.to_json()),
                new: None,
            });
        }
    }
    out
}

/// [`diff`] of two plan documents (raw or normalized).
pub fn diff_plans(old: &Value, new: &Value) -> Diff {
    diff(&crate::view::view(old), &crate::view::view(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(text: &str) -> PlanView {
        PlanView::parse(text, "test").unwrap()
    }

    #[test]
    fn added_removed_changed() {
        let old = pv("a.x: create\n  k = 1\n  gone = true\nb.y: create\n  v = \"s\"\noutput.o: create\n  value = 1\n");
        let new = pv("a.x: create\n  k = 2\n  fresh = (known after apply)\nc.z: create\n  w = [sensitive]\noutput.o: create\n  value = 1\n");
        let d = diff(&old, &new);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "resources": [
                    {"address": "a.x", "type": "a", "change": "changed", "attributes": [
                        {"path": "k", "old": 1, "new": 2},
                        {"path": "fresh", "new": "(known after apply)"},
                        {"path": "gone", "old": true}
                    ]},
                    {"address": "b.y", "type": "b", "change": "removed", "attributes": [{"path": "v", "old": "s"}]},
                    {"address": "c.z", "type": "c", "change": "added", "attributes": [{"path": "w", "new": "[sensitive]"}]}
                ],
                "outputs": []
            })
        );
        let text = d.to_text();
        assert!(
            text.contains("~ a.x\n    k: 1 -> 2\n    fresh: (absent) -> (known after apply)\n"),
            "{text}"
        );
        assert!(text.contains("3 resources: 1 added, 1 removed, 1 changed"), "{text}");
        assert!(diff(&new, &new).is_empty());
    }
}
