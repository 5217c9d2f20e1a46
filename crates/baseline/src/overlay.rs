//! Generated environment overlays: values of the allow-listed variables inside the domain of
//! `environments/variables.tf` (and, for rejection tests, one variable just outside it).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::Value;

pub const ENVIRONMENTS: [&str; 5] = crate::PROMOTION_ORDER;
pub const REGIONS: [&str; 2] = ["eu-west-2", "eu-west-1"];
pub const LOG_RETENTION: [i64; 11] = [365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
pub const TIERS: [&str; 3] = ["ingress", "trading", "data"];

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub tier: String,
    pub port: i64,
    pub replicas: i64,
    pub public: bool,
    pub from_tiers: Vec<String>,
    pub egress_ports: Vec<i64>,
    pub secrets: Vec<String>,
}

/// The allow-listed variables of one overlay.
#[derive(Clone, Debug, PartialEq)]
pub struct Overlay {
    pub environment: String,
    pub account_id: String,
    pub region: String,
    pub vpc_cidr: String,
    pub azs: Vec<String>,
    pub log_archive_retention_days: i64,
    pub log_retention_days: i64,
    pub kms_deletion_window_in_days: i64,
    pub trusted_principals: Vec<String>,
    pub services: BTreeMap<String, Service>,
    /// Variables replaced by raw HCL (used to step outside the domain).
    pub raw: BTreeMap<String, String>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(", "))
}

impl Overlay {
    /// The overlay as `terraform.tfvars` text.
    pub fn to_tfvars(&self) -> String {
        let mut vars: BTreeMap<&str, String> = BTreeMap::new();
        vars.insert("environment", q(&self.environment));
        vars.insert("account_id", q(&self.account_id));
        vars.insert("region", q(&self.region));
        vars.insert("vpc_cidr", q(&self.vpc_cidr));
        vars.insert("azs", list(&self.azs, |s| q(s)));
        vars.insert(
            "log_archive_retention_days",
            self.log_archive_retention_days.to_string(),
        );
        vars.insert("log_retention_days", self.log_retention_days.to_string());
        vars.insert(
            "kms_deletion_window_in_days",
            self.kms_deletion_window_in_days.to_string(),
        );
        vars.insert("trusted_principals", list(&self.trusted_principals, |s| q(s)));
        let mut svc = String::from("{\n");
        for (name, s) in &self.services {
            let _ = writeln!(
                svc,
                "  {} = {{\n    tier = {}\n    port = {}\n    replicas = {}\n    public = {}\n    from_tiers = {}\n    egress_ports = {}\n    secrets = {}\n  }}",
                q(name),
                q(&s.tier),
                s.port,
                s.replicas,
                s.public,
                list(&s.from_tiers, |t| q(t)),
                list(&s.egress_ports, |p| p.to_string()),
                list(&s.secrets, |t| q(t)),
            );
        }
        svc.push('}');
        vars.insert("services", svc);
        let mut out = String::new();
        for (k, v) in &vars {
            let v = self.raw.get(*k).unwrap_or(v);
            let _ = writeln!(out, "{k} = {v}");
        }
        out
    }

    /// Render `environments/` under `root` with this overlay, loading the configuration afresh.
    pub fn render(&self, root: &Path) -> anyhow::Result<Result<Value, tfrender::RenderError>> {
        self.render_in(root, |opts| tfrender::render_dir(&root.join("environments"), opts))
    }

    /// Render with this overlay from a configuration loaded once (`environments/`, see
    /// [`tfrender::Prepared`]): the same JSON as [`Overlay::render`], without parsing again.
    pub fn render_with(
        &self,
        root: &Path,
        prepared: &tfrender::Prepared,
    ) -> anyhow::Result<Result<Value, tfrender::RenderError>> {
        self.render_in(root, |opts| prepared.render(opts))
    }

    /// [`Overlay::render`] and [`Overlay::render_with`] from one variable file (errors name
    /// it, so both results can be compared byte for byte).
    #[allow(clippy::type_complexity)]
    pub fn render_both(
        &self,
        root: &Path,
        prepared: &tfrender::Prepared,
    ) -> anyhow::Result<(Result<Value, tfrender::RenderError>, Result<Value, tfrender::RenderError>)> {
        let mut fresh = None;
        let prep = self.render_in(root, |opts| {
            fresh = Some(tfrender::render_dir(&root.join("environments"), opts));
            prepared.render(opts)
        })?;
        let fresh = fresh.ok_or_else(|| anyhow::anyhow!("overlay was not rendered"))?;
        Ok((fresh, prep))
    }

    fn render_in(
        &self,
        root: &Path,
        render: impl FnOnce(&tfrender::RenderOptions) -> Result<Value, tfrender::RenderError>,
    ) -> anyhow::Result<Result<Value, tfrender::RenderError>> {
        let mut f = tempfile::Builder::new().suffix(".tfvars").tempfile()?;
        std::io::Write::write_all(&mut f, self.to_tfvars().as_bytes())?;
        let opts = lz_schema::render_options(root, vec![f.path().to_path_buf()])?;
        Ok(render(&opts))
    }
}

fn account() -> impl Strategy<Value = String> {
    "[0-9]{12}"
}

fn service() -> impl Strategy<Value = Service> {
    (select(TIERS.to_vec()), any::<bool>(), 1i64..=65535, 1i64..=20)
        .prop_flat_map(|(tier, public, port, replicas)| {
            let public = public && tier == "ingress";
            let port = if public { 443 } else { port };
            (
                Just((tier.to_string(), public, port, replicas)),
                subsequence(TIERS.to_vec(), 0..=3),
                proptest::collection::vec(1i64..=65535, 1..=3),
                proptest::collection::btree_set("[a-z][a-z0-9-]{1,12}", 0..=2),
            )
        })
        .prop_map(|((tier, public, port, replicas), from, egress, secrets)| Service {
            tier,
            port,
            replicas,
            public,
            from_tiers: from.into_iter().map(String::from).collect(),
            egress_ports: egress,
            secrets: secrets.into_iter().collect(),
        })
}

pub fn services(max: usize) -> impl Strategy<Value = BTreeMap<String, Service>> {
    proptest::collection::btree_map("[a-z][a-z0-9-]{2,14}", service(), 0..=max)
}

/// A valid overlay of `env` (any environment when `None`).
pub fn valid_overlay_for(env: Option<&'static str>) -> impl Strategy<Value = Overlay> {
    let env = match env {
        Some(e) => Just(e).boxed(),
        None => select(ENVIRONMENTS.to_vec()).boxed(),
    };
    env.prop_flat_map(|env| {
        let high = matches!(env, "preprod" | "prod");
        let archive = if high { 2190i64..=36500 } else { 365i64..=36500 };
        let kms = if env == "prod" {
            (30i64..=30).boxed()
        } else {
            (7i64..=30).boxed()
        };
        (
            Just(env),
            account(),
            select(REGIONS.to_vec()),
            0u8..=255,
            subsequence(('a'..='f').collect::<Vec<char>>(), 2..=3),
            archive,
            select(LOG_RETENTION.to_vec()),
            kms,
            proptest::collection::vec(
                prop_oneof![
                    account(),
                    (account(), "[A-Za-z][A-Za-z0-9_-]{0,16}").prop_map(|(a, r)| format!("arn:aws:iam::{a}:role/{r}"))
                ],
                0..=2,
            ),
            services(4),
        )
    })
    .prop_map(
        |(env, account_id, region, octet, letters, archive, logs, kms, principals, services)| Overlay {
            environment: env.to_string(),
            account_id,
            region: region.to_string(),
            vpc_cidr: format!("10.{octet}.0.0/16"),
            azs: letters.into_iter().map(|l| format!("{region}{l}")).collect(),
            log_archive_retention_days: archive,
            log_retention_days: logs,
            kms_deletion_window_in_days: kms,
            trusted_principals: principals,
            services,
            raw: BTreeMap::new(),
        },
    )
}

pub fn valid_overlay() -> impl Strategy<Value = Overlay> {
    valid_overlay_for(None)
}

/// A value outside the domain of one allow-listed variable: `(variable, raw HCL)`.
fn invalid_values(o: &Overlay) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = vec![
        ("environment", q("staging")),
        ("environment", q("Prod")),
        ("account_id", q("12345678901")),
        ("account_id", q("12345678901a")),
        ("region", q("us-east-1")),
        ("region", q("eu-central-1")),
        ("vpc_cidr", q("192.168.0.0/16")),
        ("vpc_cidr", q("10.1.0.0/20")),
        ("vpc_cidr", q("10.300.0.0/16")),
        ("vpc_cidr", q("10.1.1.0/16")),
        ("azs", format!("[{}]", q(&format!("{}a", o.region)))),
        ("azs", list(&["a", "b", "c", "d"], |l| q(&format!("{}{l}", o.region)))),
        ("azs", list(&["a", "b"], |l| q(&format!("us-east-1{l}")))),
        ("log_archive_retention_days", "364".into()),
        ("log_archive_retention_days", "36501".into()),
        ("log_archive_retention_days", "400.5".into()),
        ("log_retention_days", "366".into()),
        ("log_retention_days", "30".into()),
        ("kms_deletion_window_in_days", "6".into()),
        ("kms_deletion_window_in_days", "31".into()),
        ("kms_deletion_window_in_days", "7.5".into()),
        ("trusted_principals", list(&["root"], |s| q(s))),
        ("trusted_principals", list(&["arn:aws:iam::123:role/x"], |s| q(s))),
        (
            "services",
            "{ \"Bad_Name\" = { tier = \"trading\", port = 8443, replicas = 1 } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"dmz\", port = 8443, replicas = 1 } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"trading\", port = 8443, replicas = 0 } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"trading\", port = 8443, replicas = 21 } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"trading\", port = 443, replicas = 1, public = true } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"ingress\", port = 8443, replicas = 1, public = true } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"data\", port = 5432, replicas = 1, from_tiers = [\"internet\"] } }".into(),
        ),
        (
            "services",
            "{ svc-a = { tier = \"data\", port = 5432, replicas = 1, secrets = [\"Db\"] } }".into(),
        ),
    ];
    if matches!(o.environment.as_str(), "preprod" | "prod") {
        out.push(("log_archive_retention_days", "2189".into()));
    }
    if o.environment == "prod" {
        out.push(("kms_deletion_window_in_days", "29".into()));
    }
    out
}

/// An overlay with exactly one allow-listed variable outside its validation domain, and the
/// name of that variable.
pub fn invalid_overlay() -> impl Strategy<Value = (Overlay, &'static str)> {
    (valid_overlay(), any::<prop::sample::Index>()).prop_map(|(mut o, idx)| {
        let choices = invalid_values(&o);
        let (var, raw) = choices[idx.index(choices.len())].clone();
        o.raw.insert(var.to_string(), raw);
        (o, var)
    })
}

/// Overlays of two environments, the first earlier in promotion order, whose retention
/// settings never decrease from the first to the second; the later one runs at least the
/// earlier one's services (and at least one).
pub fn promotion_pair() -> impl Strategy<Value = (Overlay, Overlay)> {
    (0usize..4)
        .prop_flat_map(|i| (Just(i), (i + 1)..5))
        .prop_flat_map(|(i, j)| {
            (
                valid_overlay_for(Some(ENVIRONMENTS[i])),
                valid_overlay_for(Some(ENVIRONMENTS[j])),
                services(3).prop_filter("at least one service", |s| !s.is_empty()),
            )
        })
        .prop_map(|(lower, mut higher, extra)| {
            higher.log_archive_retention_days = higher.log_archive_retention_days.max(lower.log_archive_retention_days);
            higher.log_retention_days = higher.log_retention_days.max(lower.log_retention_days);
            higher.kms_deletion_window_in_days = higher
                .kms_deletion_window_in_days
                .max(lower.kms_deletion_window_in_days);
            let mut services = extra;
            services.extend(lower.services.clone());
            higher.services = services;
            (lower, higher)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfvars_text() {
        let o = Overlay {
            environment: "dev".into(),
            account_id: "111111111111".into(),
            region: "eu-west-2".into(),
            vpc_cidr: "10.10.0.0/16".into(),
            azs: vec!["eu-west-2a".into(), "eu-west-2b".into()],
            log_archive_retention_days: 365,
            log_retention_days: 365,
            kms_deletion_window_in_days: 7,
            trusted_principals: vec![],
            services: BTreeMap::from([(
                "svc".into(),
                Service {
                    tier: "ingress".into(),
                    port: 443,
                    replicas: 1,
                    public: true,
                    from_tiers: vec![],
                    egress_ports: vec![443],
                    secrets: vec!["tls".into()],
                },
            )]),
            raw: BTreeMap::from([("region".into(), "\"us-east-1\"".into())]),
        };
        let t = o.to_tfvars();
        assert!(t.contains("region = \"us-east-1\"\n"), "{t}");
        assert!(t.contains("azs = [\"eu-west-2a\", \"eu-west-2b\"]\n"), "{t}");
        assert!(
            t.contains("  \"svc\" = {\n    tier = \"ingress\"\n    port = 443\n"),
            "{t}"
        );
    }
}
