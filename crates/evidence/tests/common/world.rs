//! A chain on LocalStack with a witness (the witnessed-listing and state-checkpoint tests).

use aws_sdk_s3::primitives::ByteStream;
use lz_evidence::identity::{encode_public_key, generate_key};
use lz_evidence::record::*;
use lz_evidence::witness::{cosign, WitnessStore, Witnessed};
use lz_evidence::{EvidenceArchive, Identities, S3Store, Signer, TrustRoot};

use super::*;

/// Two versions a listing page: a short chain spans many pages.
pub const PAGE: i32 = 2;

pub struct World {
    pub t: Team,
    pub ids: Identities,
    pub root: TrustRoot,
    pub witness: Signer,
    /// Another registered witness (its own key and name).
    pub other: Signer,
    /// A third approver of the security group (a register change needs two besides its proposer).
    pub dave: Signer,
    pub store: S3Store,
    pub ws: WitnessStore,
    pub client: aws_sdk_s3::Client,
    pub rt: tokio::runtime::Runtime,
    /// People of the security group with the approver role beyond the team's ([`world_with`]).
    pub security: Vec<Signer>,
}

pub fn world(name: &str) -> World {
    world_with(name, 0)
}

/// [`world`] with `security` more approvers of the security group (`sec1`, `sec2`, ...): enough
/// for a register change that alters the team's own approvers' entries.
pub fn world_with(name: &str, security: usize) -> World {
    let t = team();
    let (key, other, dave) = (generate_key(), generate_key(), generate_key());
    let security: Vec<Signer> = (1..=security).map(|i| Signer::new(&format!("sec{i}"), generate_key())).collect();
    let more: String = security
        .iter()
        .map(|s| format!("[identity.{0}]\nname = \"{0}\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{1}\"\n\n", s.identity(), encode_public_key(&s.public_key())))
        .collect();
    let text = format!(
        "{}{more}[identity.audit-witness]\nname = \"W\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n\n\
         [identity.second-witness]\nname = \"W2\"\nkind = \"workload\"\ngroup = \"security\"\nroles = [\"witness\"]\npublic_key = \"{}\"\n\n\
         [identity.dave]\nname = \"dave\"\nkind = \"person\"\ngroup = \"security\"\nroles = [\"approver\"]\npublic_key = \"{}\"\n",
        t.text,
        encode_public_key(&key.verifying_key()),
        encode_public_key(&other.verifying_key()),
        encode_public_key(&dave.verifying_key())
    );
    let ids = Identities::parse(&text, "identities.toml").unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let endpoint = lz_platform::localstack::require(&repo).expect("LocalStack");
    let client = lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1");
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    // Each S3 client on one runtime only (pooled connections belong to the runtime that opened them).
    let store = S3Store::new(lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1"), &format!("lz-wl-{name}-{nonce}"), "chain/", 1).unwrap().with_page_size(PAGE);
    store.ensure_bucket().unwrap();
    let ws = WitnessStore::create(lz_platform::aws::s3_client(&endpoint, "000000000000", "us-east-1"), &format!("lz-wl-{name}-w-{nonce}"), 1).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    World { root: TrustRoot::register(ids.clone(), "test register"), ids, witness: Signer::new("audit-witness", key), other: Signer::new("second-witness", other), dave: Signer::new("dave", dave), store, ws, client, rt, t, security }
}


impl World {
    /// Appends through an archive on the store (`f` signs what it appends).
    pub fn archive(&mut self, f: impl FnOnce(&mut EvidenceArchive<S3Store>, &World)) {
        let placeholder = S3Store::new(self.store.client().clone(), "unused", "", 1).unwrap();
        let store = std::mem::replace(&mut self.store, placeholder);
        let mut a = EvidenceArchive::open(store, self.ids.clone()).unwrap();
        f(&mut a, self);
        self.store = a.into_store();
    }

    pub fn append(&mut self, n: usize) {
        let placeholder = S3Store::new(self.store.client().clone(), "unused", "", 1).unwrap();
        let store = std::mem::replace(&mut self.store, placeholder);
        let mut a = EvidenceArchive::open(store, self.ids.clone()).unwrap();
        for i in 0..n {
            a.record(DriftEvidence::new(&digest("r"), "prod", "5", vec![format!("x.y{i}")]), &self.t.deployer).unwrap();
        }
        self.store = a.into_store();
    }

    pub fn witness(&self) -> anyhow::Result<lz_evidence::witness::Cosigned> {
        Ok(cosign(&self.store, &self.ws, &self.root, Vec::new(), &self.witness)?.expect("a chain to witness"))
    }

    pub fn latest(&self) -> Witnessed {
        self.ws.latest().unwrap().expect("a witnessed checkpoint")
    }

    /// A raw object version written over record `seq` (an insider with write access to the bucket).
    pub fn overwrite(&self, seq: u64) {
        let (bucket, key) = (self.store.bucket().to_string(), self.store.record_key(seq));
        self.rt.block_on(self.client.put_object().bucket(&bucket).key(&key).body(ByteStream::from(b"{}".to_vec())).send()).unwrap();
    }

    pub fn delete_marker(&self, seq: u64) {
        let (bucket, key) = (self.store.bucket().to_string(), self.store.record_key(seq));
        self.rt.block_on(self.client.delete_object().bucket(&bucket).key(&key).send()).unwrap();
    }

    /// The head's version ids, newest first.
    pub fn head_versions(&self) -> Vec<String> {
        let out = self
            .rt
            .block_on(self.client.list_object_versions().bucket(self.store.bucket()).prefix(self.store.head_key()).send())
            .unwrap();
        out.versions().iter().filter_map(|v| v.version_id().map(String::from)).collect()
    }
}

