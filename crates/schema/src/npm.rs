//! Reader of the `@cdktf/provider-aws` npm package: each `lib/<resource>/index.js` ends with a
//! base64 `sourceMappingURL` whose `sourcesContent[0]` is the TypeScript generated from
//! `terraform providers schema -json`. This module reads that TypeScript back into the schema
//! JSON shape (`{"attributes": .., "block_types": ..}`).
//!
//! What the generated source says, per attribute or nested block:
//! `// <name> - computed: <bool>, optional: <bool>, required: <bool>`, then either a private
//! field (`private _x?: string;`), a getter only (computed-only attributes), or a nested object
//! (`private _x = new <Cls>OutputReference(this, "x")` for at most one item, `new <Cls>List(this,
//! "x", <wrapsSet>)` for lists and sets). The getter's return line gives the attribute type
//! (`getStringAttribute`, `cdktf.Fn.tolist(getListAttribute)` for a set of strings, ...). The
//! `<struct>ToTerraform` function tells a nested block (`listMapper(f, true)`) from an attribute
//! of object type (`listMapper(f, false)`, e.g. `ingress` of `aws_security_group`).
//!
//! Not carried by the package (see the crate docs for how each is filled): `sensitive`,
//! `min_items`/`max_items` beyond "required" and "at most one", the schema version, and whether
//! a one-item block is a `single` or a `list` block (`timeouts` is `single`, others `list`).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use regex::Regex;
use serde_json::{json, Map, Value as Json};

/// The unpacked package: its root (holding `package.json` and `lib/`).
pub struct Package {
    pub root: PathBuf,
    pub name: String,
    pub version: String,
    pub provider: String,
    pub provider_version: String,
    /// Set when the package was unpacked from a `.tgz` into a temporary directory.
    _tmp: Option<TempDir>,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Package {
    /// Open a package directory (`package/` of the tarball or its parent) or a `.tgz`.
    pub fn open(path: &Path) -> Result<Package> {
        let mut tmp = None;
        let mut root = path.to_path_buf();
        if path.is_file() {
            let dir = std::env::temp_dir().join(format!("lz-schema-npm-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            tmp = Some(TempDir(dir.clone()));
            let st = duct::cmd!("tar", "-xzf", path, "-C", &dir)
                .stderr_capture()
                .unchecked()
                .run()
                .with_context(|| format!("running tar to unpack {}", path.display()))?
                .status;
            if !st.success() {
                bail!("{}: not a gzip'd tar archive (tar exited with {st})", path.display());
            }
            root = dir;
        }
        if !root.join("package.json").is_file() && root.join("package/package.json").is_file() {
            root = root.join("package");
        }
        let pj = root.join("package.json");
        let text = std::fs::read_to_string(&pj).with_context(|| format!("reading {}", pj.display()))?;
        let j: Json = serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", pj.display()))?;
        let s = |p: &str| j.pointer(p).and_then(Json::as_str).map(str::to_string);
        let provider = s("/cdktf/provider/name").ok_or_else(|| anyhow!("{}: no cdktf.provider.name: not a cdktf provider package", pj.display()))?;
        let provider_version = s("/cdktf/provider/version").ok_or_else(|| anyhow!("{}: no cdktf.provider.version", pj.display()))?;
        Ok(Package {
            name: s("/name").unwrap_or_default(),
            version: s("/version").unwrap_or_default(),
            provider,
            provider_version,
            root,
            _tmp: tmp,
        })
    }

    /// The generated TypeScript of one resource type, found by its folder name
    /// (`aws_kms_key` -> `lib/kms-key`) or, failing that, by scanning every folder.
    pub fn resource_source(&self, ty: &str) -> Result<Option<String>> {
        let guess = ty.strip_prefix("aws_").unwrap_or(ty).replace('_', "-");
        let direct = self.root.join("lib").join(&guess).join("index.js");
        if direct.is_file() {
            let ts = typescript_of(&direct)?;
            if resource_type_of(&ts).as_deref() == Some(ty) {
                return Ok(Some(ts));
            }
        }
        for (t, ts) in self.all_resources()? {
            if t == ty {
                return Ok(Some(ts));
            }
        }
        Ok(None)
    }

    /// Every resource type of the package with its TypeScript source.
    pub fn all_resources(&self) -> Result<Vec<(String, String)>> {
        let lib = self.root.join("lib");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lib)
            .with_context(|| format!("reading {}", lib.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("index.js").is_file())
            .collect();
        dirs.sort();
        let mut out = Vec::new();
        for d in dirs {
            let ts = typescript_of(&d.join("index.js"))?;
            if let Some(t) = resource_type_of(&ts) {
                out.push((t, ts));
            }
        }
        Ok(out)
    }
}

/// `sourcesContent[0]` of the inline source map at the end of a generated `index.js`.
pub fn typescript_of(js: &Path) -> Result<String> {
    let text = std::fs::read_to_string(js).with_context(|| format!("reading {}", js.display()))?;
    let marker = "sourceMappingURL=data:application/json;base64,";
    let at = text.rfind(marker).ok_or_else(|| anyhow!("{}: no inline sourceMappingURL", js.display()))?;
    let b64: String = text[at + marker.len()..].chars().take_while(|c| !c.is_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim_end_matches("*/"))
        .with_context(|| format!("{}: the source map is not valid base64", js.display()))?;
    let map: Json = serde_json::from_slice(&raw).with_context(|| format!("{}: the source map is not JSON", js.display()))?;
    map.pointer("/sourcesContent/0")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{}: the source map has no sourcesContent", js.display()))
}

/// The `tfResourceType` of a generated resource source (data sources are skipped).
pub fn resource_type_of(ts: &str) -> Option<String> {
    let re = Regex::new(r#"extends cdktf\.TerraformResource \{[^}]*?public static readonly tfResourceType = "([a-z0-9_]+)""#).ok()?;
    re.captures(ts).map(|c| c[1].to_string())
}

/// One `// name - computed: .., optional: .., required: ..` entry of a class.
struct Field {
    name: String,
    computed: bool,
    optional: bool,
    required: bool,
    /// The private field declaration, if any.
    private: Option<String>,
    /// The getter's return expression.
    ret: Option<String>,
}

struct Source<'a> {
    ts: &'a str,
    classes: BTreeMap<String, &'a str>,
    ty: String,
}

/// The schema block (`terraform providers schema -json` shape, without descriptions) of the
/// resource in one generated source.
pub fn resource_block(ts: &str) -> Result<(String, Json)> {
    let ty = resource_type_of(ts).ok_or_else(|| anyhow!("not a resource source: no tfResourceType"))?;
    let class_re = Regex::new(r"(?m)^export class (\w+) extends ([\w.]+) \{").map_err(|e| anyhow!("{e}"))?;
    let starts: Vec<(usize, String, String)> =
        class_re.captures_iter(ts).map(|c| (c.get(0).map_or(0, |m| m.start()), c[1].to_string(), c[2].to_string())).collect();
    let mut classes = BTreeMap::new();
    let mut resource_class = None;
    for (i, (at, name, base)) in starts.iter().enumerate() {
        let end = ts[*at + 1..].find("\nexport ").map(|e| at + 1 + e).unwrap_or(ts.len());
        let end = starts.get(i + 1).map(|n| n.0.min(end)).unwrap_or(end);
        classes.insert(name.clone(), &ts[*at..end]);
        if base == "cdktf.TerraformResource" {
            resource_class = Some(name.clone());
        }
    }
    let rc = resource_class.ok_or_else(|| anyhow!("{ty}: no class extending cdktf.TerraformResource"))?;
    let src = Source { ts, classes, ty: ty.clone() };
    let block = src.block(&rc, "synthesizeAttributes", 0)?;
    Ok((ty, block))
}

fn flag(s: &str) -> bool {
    s == "true"
}

impl Source<'_> {
    fn fields(&self, class: &str) -> Result<Vec<Field>> {
        let body = self.classes.get(class).ok_or_else(|| anyhow!("{}: class {class} not found", self.ty))?;
        let re = Regex::new(r"^\s*// ([a-z0-9_]+) - computed: (true|false), optional: (true|false), required: (true|false)\s*$").map_err(|e| anyhow!("{e}"))?;
        let lines: Vec<&str> = body.lines().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let Some(c) = re.captures(lines[i]) else {
                i += 1;
                continue;
            };
            let mut f = Field { name: c[1].to_string(), computed: flag(&c[2]), optional: flag(&c[3]), required: flag(&c[4]), private: None, ret: None };
            let mut j = i + 1;
            while j < lines.len() && !re.is_match(lines[j]) {
                let l = lines[j].trim();
                if f.private.is_none() && l.starts_with("private _") {
                    f.private = Some(l.to_string());
                }
                if f.ret.is_none() && l.starts_with("return ") {
                    f.ret = Some(l.trim_start_matches("return ").trim_end_matches(';').to_string());
                }
                j += 1;
            }
            out.push(f);
            i = j;
        }
        Ok(out)
    }

    /// Whether the struct mapper of `owner` maps `name` as a block (`listMapper(f, true)`).
    fn is_block_in(&self, mapper: &str, name: &str) -> Option<bool> {
        let at = self.ts.find(mapper)?;
        let rest = &self.ts[at..];
        let end = rest[1..].find("\nexport ").map(|e| e + 1).unwrap_or(rest.len());
        let rest = &rest[..end];
        let re = Regex::new(&format!(r"\n\s*{name}: cdktf\.listMapper\(\w+, (true|false)\)")).ok()?;
        re.captures(rest).map(|c| flag(&c[1]))
    }

    fn block(&self, class: &str, mapper: &str, depth: usize) -> Result<Json> {
        if depth > 16 {
            bail!("{}: nested blocks deeper than 16 levels at {class}", self.ty);
        }
        let mut attributes = Map::new();
        let mut block_types = Map::new();
        let nested_re = Regex::new(r#"^private _\w+ = new (\w+)\(this, "([a-z0-9_]+)"(?:, (true|false))?\);"#).map_err(|e| anyhow!("{e}"))?;
        for f in self.fields(class)? {
            let nested = f.private.as_deref().and_then(|p| nested_re.captures(p)).map(|c| (c[1].to_string(), c.get(3).map(|m| flag(m.as_str()))));
            match nested {
                Some((cls, wraps)) if !cls.starts_with("cdktf") && !is_builtin(&cls) => {
                    let (elem, kind) = if let Some(stem) = cls.strip_suffix("OutputReference") {
                        (format!("{stem}OutputReference"), "one")
                    } else if let Some(stem) = cls.strip_suffix("List") {
                        (format!("{stem}OutputReference"), if wraps == Some(true) { "set" } else { "list" })
                    } else if let Some(stem) = cls.strip_suffix("Map") {
                        (format!("{stem}OutputReference"), "map")
                    } else {
                        bail!("{}: {}: unrecognised nested class {cls}", self.ty, f.name);
                    };
                    let stem = elem.trim_end_matches("OutputReference");
                    let child_mapper = format!("export function {}ToTerraform(", lcfirst(stem));
                    let as_block = match self.is_block_in(mapper, &f.name) {
                        Some(b) => b,
                        None => !f.computed,
                    };
                    if as_block {
                        let inner = self.block(&elem, &child_mapper, depth + 1)?;
                        let mut bt = Map::new();
                        let mode = match kind {
                            "one" if f.name == "timeouts" => "single",
                            "one" => "list",
                            other => other,
                        };
                        bt.insert("nesting_mode".into(), json!(mode));
                        bt.insert("block".into(), inner);
                        if f.required && mode != "single" {
                            bt.insert("min_items".into(), json!(1));
                        }
                        if kind == "one" && mode == "list" {
                            bt.insert("max_items".into(), json!(1));
                        }
                        block_types.insert(f.name.clone(), Json::Object(bt));
                    } else {
                        let obj = self.object_type(&elem, &child_mapper, depth + 1)?;
                        let ty = match kind {
                            "one" => obj,
                            k => json!([k, obj]),
                        };
                        attributes.insert(f.name.clone(), attribute(ty, &f));
                    }
                }
                _ => {
                    let ty = self.attr_type(&f)?;
                    attributes.insert(f.name.clone(), attribute(ty, &f));
                }
            }
        }
        let mut b = Map::new();
        if !attributes.is_empty() {
            b.insert("attributes".into(), Json::Object(attributes));
        }
        if !block_types.is_empty() {
            b.insert("block_types".into(), Json::Object(block_types));
        }
        Ok(Json::Object(b))
    }

    /// An object type from a nested class read as an attribute (every member an attribute).
    fn object_type(&self, class: &str, mapper: &str, depth: usize) -> Result<Json> {
        let b = self.block(class, mapper, depth)?;
        let mut o = Map::new();
        if let Some(attrs) = b.get("attributes").and_then(Json::as_object) {
            for (k, a) in attrs {
                o.insert(k.clone(), a["type"].clone());
            }
        }
        if let Some(bts) = b.get("block_types").and_then(Json::as_object) {
            for (k, bt) in bts {
                let inner = block_object_type(&bt["block"]);
                let t = match bt["nesting_mode"].as_str() {
                    Some("single") => inner,
                    Some(m) => json!([m, inner]),
                    None => inner,
                };
                o.insert(k.clone(), t);
            }
        }
        Ok(json!(["object", o]))
    }

    fn attr_type(&self, f: &Field) -> Result<Json> {
        let ret = f.ret.as_deref().unwrap_or("");
        let private = f.private.as_deref().unwrap_or("");
        let set = ret.contains("cdktf.Fn.tolist(");
        let coll = |elem: Json| if set { json!(["set", elem]) } else { json!(["list", elem]) };
        let t = if ret.contains("getStringAttribute(") {
            json!("string")
        } else if ret.contains("getNumberAttribute(") {
            json!("number")
        } else if ret.contains("getBooleanAttribute(") {
            json!("bool")
        } else if ret.contains("getNumberListAttribute(") {
            coll(json!("number"))
        } else if ret.contains("getListAttribute(") {
            coll(json!("string"))
        } else if ret.contains("getStringMapAttribute(") {
            json!(["map", "string"])
        } else if ret.contains("getNumberMapAttribute(") {
            json!(["map", "number"])
        } else if ret.contains("getBooleanMapAttribute(") {
            json!(["map", "bool"])
        } else if ret.contains("getAnyMapAttribute(") {
            json!(["map", "dynamic"])
        } else if let Some(t) = builtin_type(private) {
            t
        } else if ret.contains("interpolationForAttribute(") {
            json!("dynamic")
        } else {
            bail!("{}: attribute {:?}: unrecognised declaration {private:?} / return {ret:?}", self.ty, f.name);
        };
        Ok(t)
    }
}

const BUILTINS: &[(&str, &str)] = &[
    ("StringMap", r#"["map","string"]"#),
    ("NumberMap", r#"["map","number"]"#),
    ("BooleanMap", r#"["map","bool"]"#),
    ("AnyMap", r#"["map","dynamic"]"#),
    ("StringListMap", r#"["map",["list","string"]]"#),
    ("NumberListMap", r#"["map",["list","number"]]"#),
    ("BooleanListMap", r#"["map",["list","bool"]]"#),
    ("StringMapList", r#"["list",["map","string"]]"#),
    ("NumberMapList", r#"["list",["map","number"]]"#),
    ("BooleanMapList", r#"["list",["map","bool"]]"#),
    ("AnyMapList", r#"["list",["map","dynamic"]]"#),
    ("StringListList", r#"["list",["list","string"]]"#),
    ("NumberListList", r#"["list",["list","number"]]"#),
];

fn is_builtin(cls: &str) -> bool {
    BUILTINS.iter().any(|(n, _)| *n == cls)
}

/// `new cdktf.StringMap(this, "x")` and its kin: the attribute type they stand for.
fn builtin_type(private: &str) -> Option<Json> {
    let re = Regex::new(r"new (?:cdktf\.)?(\w+)\(this,").ok()?;
    let cls = re.captures(private)?[1].to_string();
    BUILTINS.iter().find(|(n, _)| *n == cls).and_then(|(_, t)| serde_json::from_str(t).ok())
}

fn lcfirst(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn attribute(ty: Json, f: &Field) -> Json {
    let mut a = Map::new();
    a.insert("type".into(), ty);
    if f.required {
        a.insert("required".into(), json!(true));
    }
    if f.optional {
        a.insert("optional".into(), json!(true));
    }
    if f.computed {
        a.insert("computed".into(), json!(true));
    }
    Json::Object(a)
}

/// The object type a nested block's value has.
pub fn block_object_type(block: &Json) -> Json {
    let mut o = Map::new();
    if let Some(attrs) = block.get("attributes").and_then(Json::as_object) {
        for (k, a) in attrs {
            o.insert(k.clone(), a["type"].clone());
        }
    }
    if let Some(bts) = block.get("block_types").and_then(Json::as_object) {
        for (k, bt) in bts {
            let inner = block_object_type(&bt["block"]);
            let t = match bt["nesting_mode"].as_str() {
                Some("single") | Some("group") => inner,
                Some(m) => json!([m, inner]),
                None => inner,
            };
            o.insert(k.clone(), t);
        }
    }
    json!(["object", o])
}
