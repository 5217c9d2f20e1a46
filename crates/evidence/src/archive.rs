//! The evidence archive: signs records and appends them to a store, hash-chained.

use anyhow::{bail, Context, Result};

use crate::dsse::{sha256_hex, Envelope, PAYLOAD_TYPE};
use crate::identity::{describe_rule, Identities, Signer};
use crate::record::{format_time, now_rfc3339, ChainLink, Digests, EvidenceBuilder, Fields, Kind, Predicate, Statement, Subject, GENESIS, STATEMENT_TYPE};
use crate::store::{sign_checkpoint, Checkpoint, Store};

/// Why the archive refused to sign a record: the signer may not sign it, or it breaks a rule
/// verification would reject it for. (Malformed fields are plain errors.)
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A record just appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef {
    pub sequence: u64,
    /// sha256 of the canonical envelope bytes: the next record's `previous`.
    pub hash: String,
    pub kind: Kind,
}

/// Builds the statement for a record at `sequence` after `previous`.
pub fn statement(kind: Kind, mut fields: Fields, identity: &str, sequence: u64, previous: &str) -> Result<Statement> {
    fields.validate(kind).with_context(|| format!("invalid {kind} record"))?;
    let mut subject = vec![Subject { name: "release".into(), digest: Digests { sha256: fields.release.clone() } }];
    if let Some(plan) = &fields.plan_digest {
        let name = match &fields.environment {
            Some(env) => format!("plan/{env}"),
            None => "plan".into(),
        };
        subject.push(Subject { name, digest: Digests { sha256: plan.clone() } });
    }
    Ok(Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject,
        predicate_type: kind.predicate_type(),
        predicate: Predicate {
            chain: ChainLink { sequence, previous: previous.into() },
            identity: identity.into(),
            time: fields.time.map(format_time).unwrap_or_else(now_rfc3339),
            release: fields.release,
            environment: fields.environment,
            account: fields.account,
            ticket: fields.ticket,
            reason: fields.reason,
            plan_digest: fields.plan_digest,
            details: fields.details,
        },
    })
}

/// Signs a statement into canonical envelope bytes.
pub fn seal(statement: &Statement, signer: &Signer) -> Vec<u8> {
    let payload = serde_json::to_vec(statement).expect("statements always serialize");
    Envelope::sign(&payload, PAYLOAD_TYPE, signer).to_canonical()
}

pub struct EvidenceArchive<S: Store> {
    store: S,
    identities: Option<Identities>,
    next: u64,
    head: String,
    /// Time of the last record: a new record is never dated before it.
    last_time: Option<time::OffsetDateTime>,
}

impl<S: Store> EvidenceArchive<S> {
    /// Opens a store for appending; records are checked against `identities` before signing
    /// so that the archive never receives a record verification would reject.
    pub fn open(store: S, identities: Identities) -> Result<Self> {
        Self::open_inner(store, Some(identities))
    }

    /// Opens without the role check (tests that forge records, migrations).
    pub fn open_unchecked(store: S) -> Result<Self> {
        Self::open_inner(store, None)
    }

    fn open_inner(store: S, identities: Option<Identities>) -> Result<Self> {
        // The checkpoint before the last record: writers store records before they move the
        // head, so a head read first never names a record the later read of the tail misses
        // (read the other way round, a concurrent append looks like truncation).
        let checkpoint = store.checkpoint()?;
        let (next, head, last_time) = match store.last()? {
            None => (0, GENESIS.to_string(), None),
            Some(rec) => {
                let env: Envelope = serde_json::from_slice(&rec.bytes)
                    .with_context(|| format!("{}: the last record is not a DSSE envelope", rec.location))?;
                let payload = env.payload_bytes().with_context(|| format!("{}: payload is not base64", rec.location))?;
                let st: Statement = serde_json::from_slice(&payload)
                    .with_context(|| format!("{}: payload is not an evidence statement", rec.location))?;
                let time = crate::record::parse_time(&st.predicate.time).ok();
                (st.predicate.chain.sequence + 1, sha256_hex(&rec.bytes), time)
            }
        };
        if let Some(cp) = checkpoint {
            if cp.sequence >= next {
                bail!(
                    "{}: the checkpoint records sequence {} but the store ends before it (truncated); run `cargo xtask evidence verify`",
                    store.describe(),
                    cp.sequence
                );
            }
        }
        Ok(EvidenceArchive { store, identities, next, head, last_time })
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn into_store(self) -> S {
        self.store
    }

    /// Sequence number the next record will get.
    pub fn next_sequence(&self) -> u64 {
        self.next
    }

    pub fn head_hash(&self) -> &str {
        &self.head
    }

    fn check_signer(identities: Option<&Identities>, kind: Kind, signer: &Signer) -> Result<()> {
        let Some(ids) = identities else { return Ok(()) };
        let Some(id) = ids.get(signer.identity()) else {
            return Err(Refused(format!("identity {} is not in the identities register", signer.identity())).into());
        };
        if id.keyid != signer.keyid() {
            return Err(Refused(format!("the signing key is not the registered key of identity {}", id.name)).into());
        }
        if !id.may_sign(kind) {
            return Err(Refused(format!("identity {} may not sign {kind} records ({})", id.name, describe_rule(kind))).into());
        }
        Ok(())
    }

    pub fn append(&mut self, kind: Kind, fields: Fields, signer: &Signer) -> Result<RecordRef> {
        Ok(self.append_many(vec![(kind, fields, signer)])?.remove(0))
    }

    pub fn record(&mut self, builder: impl EvidenceBuilder, signer: &Signer) -> Result<RecordRef> {
        let kind = builder.kind();
        let fields = builder.into_fields()?;
        self.append(kind, fields, signer)
    }

    /// Appends several records with one durable write.
    pub fn append_many(&mut self, items: Vec<(Kind, Fields, &Signer)>) -> Result<Vec<RecordRef>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let first = self.next;
        let previous = self.head.clone();
        let mut head = self.head.clone();
        let mut seq = self.next;
        let mut bytes = Vec::with_capacity(items.len());
        let mut refs = Vec::with_capacity(items.len());
        let mut last_signer = None;
        let mut last_time = self.last_time;
        // The register in force: a register change in this batch applies to the items after it.
        let mut register = self.identities.clone();
        for (kind, fields, signer) in items {
            last_signer = Some(signer);
            // The genesis register (record 0 of a chain that carries its own register) is judged
            // by itself: its signer must be a person of its security group.
            let previous = fields.details.get("previous_register_sha256").and_then(|v| v.as_str());
            let genesis = if kind == Kind::RegisterChange && seq == 0 && previous == Some(GENESIS) && register.is_some() {
                let text = fields.details.get("register").and_then(|v| v.as_str()).unwrap_or_default();
                Some(Identities::parse(text, "genesis register").map_err(|e| Refused(format!("refusing the genesis register: {e:#}")))?)
            } else {
                None
            };
            if let Some(g) = &genesis {
                register = Some(g.clone());
            }
            Self::check_signer(register.as_ref(), kind, signer)?;
            let st = statement(kind, fields, signer.identity(), seq, &head)?;
            let time = crate::record::parse_time(&st.predicate.time)?;
            if let Some(last) = last_time.filter(|l| time < *l && self.identities.is_some()) {
                return Err(Refused(format!(
                    "refusing a {kind} record dated {} before the chain's last record ({}): records cannot be back-dated",
                    st.predicate.time,
                    format_time(last)
                ))
                .into());
            }
            last_time = Some(time);
            if let Some((ids, id)) = register.as_ref().and_then(|ids| ids.get(signer.identity()).map(|id| (ids, id))) {
                crate::verify::check_new_record(kind, id, ids, &st)
                    .map_err(|e| Refused(format!("refusing a {kind} record: {e:#}")))?;
            }
            if kind == Kind::RegisterChange && genesis.is_none() && register.is_some() {
                // A later register is a proposal: it comes into force only with its quorum of
                // `register-approval` records (verification replays that; the archive keeps the
                // register in force until it reopens the chain).
                let text = st.predicate.details.get("register").and_then(|v| v.as_str()).unwrap_or_default();
                Identities::parse(text, &format!("register of record {seq}"))
                    .map_err(|e| Refused(format!("refusing a register change: {e:#}")))?;
            }
            let env = seal(&st, signer);
            head = sha256_hex(&env);
            refs.push(RecordRef { sequence: seq, hash: head.clone(), kind });
            bytes.push(env);
            seq += 1;
        }
        let cp = Checkpoint { sequence: seq - 1, hash: head.clone(), time: now_rfc3339() };
        let last_signer = last_signer.expect("at least one item");
        self.store.append(first, &previous, &bytes, &sign_checkpoint(&cp, last_signer))?;
        self.next = seq;
        self.head = head;
        self.last_time = last_time;
        self.identities = register;
        Ok(refs)
    }
}
