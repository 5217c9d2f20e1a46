//! Provider resource schemas (the `terraform providers schema -json` shape): what the
//! renderer validates `aws_*` resources against and how it plans them like the provider.
use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use crate::value::Type;

/// The resource schemas of one provider.
#[derive(Debug, Default)]
pub struct ProviderSchema {
    /// Provider source address, e.g. `registry.terraform.io/hashicorp/aws`.
    pub provider: String,
    pub resources: HashMap<String, ResourceSchema>,
}

#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub version: u64,
    pub block: Block,
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub attributes: BTreeMap<String, Attribute>,
    pub block_types: BTreeMap<String, NestedBlock>,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: usize,
    pub max_items: usize,
}

impl Attribute {
    /// Set only by the provider: neither required nor optional.
    pub fn computed_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }
}

impl ProviderSchema {
    /// Read every provider of a `terraform providers schema -json` document (the first
    /// provider that has resource schemas; documents here hold one).
    pub fn from_json(doc: &Json) -> Result<ProviderSchema, String> {
        let provs = doc.get("provider_schemas").and_then(Json::as_object).ok_or("no provider_schemas object")?;
        let mut out = ProviderSchema::default();
        for (name, p) in provs {
            let Some(rs) = p.get("resource_schemas").and_then(Json::as_object) else { continue };
            out.provider = name.clone();
            for (ty, s) in rs {
                let block = parse_block(&s["block"]).map_err(|e| format!("{ty}: {e}"))?;
                let version = s.get("version").and_then(Json::as_u64).unwrap_or(0);
                out.resources.insert(ty.clone(), ResourceSchema { version, block });
            }
            break;
        }
        Ok(out)
    }

    pub fn resource(&self, ty: &str) -> Option<&ResourceSchema> {
        self.resources.get(ty)
    }
}

fn parse_block(b: &Json) -> Result<Block, String> {
    let mut out = Block::default();
    if let Some(attrs) = b.get("attributes").and_then(Json::as_object) {
        for (k, a) in attrs {
            let flag = |f: &str| a.get(f).and_then(Json::as_bool).unwrap_or(false);
            let ty = parse_type(a.get("type").ok_or_else(|| format!("attribute {k}: no type"))?).map_err(|e| format!("attribute {k}: {e}"))?;
            out.attributes.insert(
                k.clone(),
                Attribute { ty, required: flag("required"), optional: flag("optional"), computed: flag("computed"), sensitive: flag("sensitive") },
            );
        }
    }
    if let Some(bts) = b.get("block_types").and_then(Json::as_object) {
        for (k, bt) in bts {
            let nesting = match bt.get("nesting_mode").and_then(Json::as_str) {
                Some("single") => Nesting::Single,
                Some("group") => Nesting::Group,
                Some("list") => Nesting::List,
                Some("set") => Nesting::Set,
                Some("map") => Nesting::Map,
                other => return Err(format!("block {k}: unknown nesting_mode {other:?}")),
            };
            let block = parse_block(&bt["block"]).map_err(|e| format!("{k}.{e}"))?;
            let n = |f: &str| bt.get(f).and_then(Json::as_u64).unwrap_or(0) as usize;
            out.block_types.insert(k.clone(), NestedBlock { nesting, block, min_items: n("min_items"), max_items: n("max_items") });
        }
    }
    Ok(out)
}

/// A cty type in its JSON notation.
pub fn parse_type(j: &Json) -> Result<Type, String> {
    match j {
        Json::String(s) => match s.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            o => Err(format!("unknown type {o:?}")),
        },
        Json::Array(a) if a.len() == 2 => {
            let kind = a[0].as_str().unwrap_or("");
            match kind {
                "list" => Ok(Type::List(Box::new(parse_type(&a[1])?))),
                "set" => Ok(Type::Set(Box::new(parse_type(&a[1])?))),
                "map" => Ok(Type::Map(Box::new(parse_type(&a[1])?))),
                "object" => {
                    let m = a[1].as_object().ok_or("object type without attributes")?;
                    let mut o = BTreeMap::new();
                    for (k, t) in m {
                        o.insert(k.clone(), parse_type(t)?);
                    }
                    Ok(Type::Object(o))
                }
                "tuple" => {
                    let ts = a[1].as_array().ok_or("tuple type without elements")?;
                    Ok(Type::Tuple(ts.iter().map(parse_type).collect::<Result<_, _>>()?))
                }
                o => Err(format!("unknown type constructor {o:?}")),
            }
        }
        other => Err(format!("invalid type {other}")),
    }
}

impl Block {
    /// The object type of a value of this block.
    pub fn object_type(&self) -> Type {
        let mut o = BTreeMap::new();
        for (k, a) in &self.attributes {
            o.insert(k.clone(), a.ty.clone());
        }
        for (k, b) in &self.block_types {
            let inner = b.block.object_type();
            o.insert(
                k.clone(),
                match b.nesting {
                    Nesting::Single | Nesting::Group => inner,
                    Nesting::List => Type::List(Box::new(inner)),
                    Nesting::Set => Type::Set(Box::new(inner)),
                    Nesting::Map => Type::Map(Box::new(inner)),
                },
            );
        }
        Type::Object(o)
    }

    /// An attribute written in block syntax: a list or set of objects (Terraform accepts
    /// `ingress { ... }` for such attributes of legacy providers).
    pub fn attr_as_block(&self, name: &str) -> Option<(&Attribute, &BTreeMap<String, Type>)> {
        let a = self.attributes.get(name)?;
        match &a.ty {
            Type::List(e) | Type::Set(e) => match &**e {
                Type::Object(o) => Some((a, o)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every argument, nested block and exported attribute name.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.attributes.keys().chain(self.block_types.keys())
    }
}
