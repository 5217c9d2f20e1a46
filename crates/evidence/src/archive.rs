//! The evidence archive: signs records and appends them to a store, hash-chained.

use anyhow::{bail, Context, Result};

use crate::dsse::{sha256_hex, Envelope, PAYLOAD_TYPE};
use crate::identity::{describe_rule, Identities, Signer};
use crate::record::{
    format_time, now_rfc3339, whole_seconds, ChainLink, Digests, EvidenceBuilder, Fields, Kind, Predicate, Statement, Subject, GENESIS,
    STATEMENT_TYPE,
};
use crate::store::{sign_checkpoint, Checkpoint, HeadBehind, HeadMoved, Store, WriteUncertain};
pub use crate::refused::Refused;

mod tail;

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
            time: format_time(fields.time.unwrap_or_else(|| whole_seconds(time::OffsetDateTime::now_utc()))),
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

/// Whether `env` (of `payload`) carries exactly one signature, by `signer`'s key, that verifies.
fn signed_by(env: &Envelope, payload: &[u8], signer: &Signer) -> bool {
    use base64::Engine as _;
    let [sig] = env.signatures.as_slice() else { return false };
    let Some(bytes) = base64::engine::general_purpose::STANDARD.decode(&sig.sig).ok().and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    env.payload_type == PAYLOAD_TYPE
        && sig.keyid == signer.keyid()
        && signer.public_key().verify(&bytes, &[&crate::dsse::pae(PAYLOAD_TYPE, payload)])
}

/// Signs a statement into canonical envelope bytes.
pub fn seal(statement: &Statement, signer: &Signer) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(statement).expect("statements always serialize");
    Ok(Envelope::sign(&payload, PAYLOAD_TYPE, signer)?.to_canonical())
}

pub struct EvidenceArchive<S: Store> {
    store: S,
    identities: Option<Identities>,
    next: u64,
    head: String,
    /// Time of the last record: a new record is never dated before it.
    last_time: Option<time::OffsetDateTime>,
    /// The verifier's rules after the last record ([`EvidenceArchive::open_verified`]): every
    /// record is judged by them before it is signed.
    rules: crate::verify::ChainRules,
    /// Foreign objects between the last record and `next` (a slotted store): the next record
    /// records their skip ([`crate::quarantine`]).
    skips: Vec<crate::quarantine::Skip>,
}

/// How far past the appending machine's clock a record may be dated, in seconds. A record
/// dated later is refused: a record from the future makes every honest record after it
/// back-dated.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

impl<S: Store> EvidenceArchive<S> {
    /// Opens a store for appending; records are checked against `identities` before signing
    /// so that the archive never receives a record verification would reject.
    pub fn open(store: S, identities: Identities) -> Result<Self> {
        Self::open_inner(store, Some(identities))
    }

    /// Opens a store for appending after `chain`, the store verified just now: each record is
    /// judged by the register in force and by every rule verification applies to it, those that
    /// need the records before it included ([`crate::verify::ChainRules`]), before it is signed.
    /// In a slotted store it continues from the chain's last verified record, judging only the
    /// keys written since (foreign objects there are skipped and recorded: [`crate::quarantine`]).
    /// A store that moved past `chain` since is [`HeadMoved`]: verify it again.
    pub fn open_verified(store: S, chain: &crate::verify::VerifiedChain) -> Result<Self> {
        let mut archive = if store.slotted() {
            let start = chain.head.clone().map(|(sequence, hash)| Checkpoint { sequence, hash, time: String::new() });
            Self::open_slotted(store, Some(chain.register.clone()), start)?
        } else {
            Self::open_inner(store, Some(chain.register.clone()))?
        };
        // The keys after the chain's last record hold foreign objects (skipped) and nothing else.
        let expected = chain.rules.after().map(|after| after + archive.skips.len() as u64);
        if expected != Some(archive.next) {
            return Err(HeadMoved(format!(
                "{}: {} records were verified but the store holds {}",
                archive.store.describe(),
                chain.records.len(),
                archive.next
            ))
            .into());
        }
        archive.rules = chain.rules.clone();
        Ok(archive)
    }

    /// Opens without the role check (tests that forge records, migrations).
    pub fn open_unchecked(store: S) -> Result<Self> {
        Self::open_inner(store, None)
    }

    fn open_inner(store: S, identities: Option<Identities>) -> Result<Self> {
        // The checkpoint before the last record: writers store records before they move the
        // head, so a head read first never names a record the later read of the tail misses
        // (read the other way round, a concurrent append looks like truncation).
        if store.slotted() {
            // A head that is not a checkpoint signed by a registered key (garbage, a stranger's)
            // is no guide; verification reports it as a foreign object.
            let checkpoint = store.head()?.and_then(|h| tail::head_checkpoint(&h, identities.as_ref()));
            return Self::open_slotted(store, identities, checkpoint);
        }
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
        Ok(EvidenceArchive { store, identities, next, head, last_time, rules: Default::default(), skips: Vec::new() })
    }

    /// A store with a key per sequence: the records from the head's on are judged, and foreign
    /// objects after the last valid record are skipped (the next record records them). Without
    /// a usable head (none, garbage, or naming an object that is not its record), every key is.
    fn open_slotted(store: S, identities: Option<Identities>, checkpoint: Option<Checkpoint>) -> Result<Self> {
        let from_head = match &checkpoint {
            Some(cp) => tail::walk(&store.slots_at(cp)?, Some((cp.sequence, &cp.hash)), identities.as_ref()),
            None => None,
        };
        let tail = match from_head {
            Some(t) => t,
            None => tail::walk(&store.load()?, None, identities.as_ref()).expect("a walk from the start always ends"),
        };
        if let Some(cp) = &checkpoint {
            if cp.sequence >= tail.next {
                bail!(
                    "{}: the checkpoint records sequence {} but the store ends before it (truncated); run `cargo xtask evidence verify`",
                    store.describe(),
                    cp.sequence
                );
            }
        }
        Ok(EvidenceArchive { store, identities, next: tail.next, head: tail.head, last_time: tail.last_time, skips: tail.skips, rules: Default::default() })
    }

    /// Foreign objects the next record will record as skipped.
    pub fn pending_skips(&self) -> &[crate::quarantine::Skip] {
        &self.skips
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
        let mut rules = self.rules.clone();
        let mut skips = Some(self.skips.clone()).filter(|s| !s.is_empty());
        for (kind, mut fields, signer) in items {
            last_signer = Some(signer);
            // Only the archive records skips: the first record after foreign objects.
            if fields.details.contains_key(crate::quarantine::QUARANTINED) {
                return Err(Refused(format!(
                    "the detail {:?} is the archive's record of skipped foreign objects, never the caller's",
                    crate::quarantine::QUARANTINED
                ))
                .into());
            }
            if let Some(skips) = skips.take() {
                fields.details.insert(crate::quarantine::QUARANTINED.into(), serde_json::to_value(skips)?);
            }
            // The genesis register (record 0 of a chain that carries its own register, or its
            // first record after foreign objects squatting the first keys: crate::genesis_after)
            // is judged by itself: its signer must be a person of its security group.
            // (Details that do not parse as the kind are refused when the statement is built.)
            let change = match crate::details::Details::parse(kind, &fields.details) {
                Ok(crate::details::Details::RegisterChange(c)) => Some(c),
                _ => None,
            };
            let first = seq == 0 || head == GENESIS;
            let genesis = if let Some(c) = change.filter(|c| first && c.previous_register_sha256 == GENESIS && register.is_some()) {
                let text = c.register.as_str();
                Some(Identities::parse(text, "genesis register").map_err(|e| Refused(format!("refusing the genesis register: {e:#}")))?)
            } else {
                None
            };
            if let Some(g) = &genesis {
                register = Some(g.clone());
            }
            Self::check_signer(register.as_ref(), kind, signer)?;
            // One precision, whole seconds. A time the caller read from the trusted clock (an HTTP
            // date: whole seconds) is kept as given, and refused only when it falls in an earlier
            // second than the last record; without one, the local clock stamps the record in
            // whole seconds, never before the last record (the chain's time does not run
            // backwards because this machine's clock lags).
            if fields.time.is_none() {
                let now = whole_seconds(time::OffsetDateTime::now_utc());
                fields.time = Some(last_time.map(whole_seconds).filter(|l| *l > now).unwrap_or(now));
            }
            let st = statement(kind, fields, signer.identity(), seq, &head)?;
            let time = crate::record::parse_time(&st.predicate.time)?;
            if let Some(last) = last_time.filter(|l| time < whole_seconds(*l) && self.identities.is_some()) {
                return Err(Refused(format!(
                    "refusing a {kind} record dated {} before the chain's last record ({}): records cannot be back-dated",
                    st.predicate.time,
                    format_time(last)
                ))
                .into());
            }
            if self.identities.is_some() {
                let now = whole_seconds(time::OffsetDateTime::now_utc());
                if time > now + time::Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
                    return Err(Refused(format!(
                        "refusing a {kind} record dated {}: after this machine's clock ({}) plus the allowed skew of {MAX_CLOCK_SKEW_SECONDS} seconds (a record from the future would make every later record back-dated)",
                        st.predicate.time,
                        format_time(now)
                    ))
                    .into());
                }
            }
            last_time = Some(time);
            let signed_by = register.as_ref().and_then(|ids| ids.get(signer.identity()).map(|id| (ids, id)));
            if let Some((ids, id)) = signed_by.filter(|_| !rules.known()) {
                crate::verify::check_new_record(kind, id, ids, &st)
                    .map_err(|e| Refused(format!("refusing a {kind} record: {e:#}")))?;
            }
            if kind == Kind::RegisterChange && genesis.is_none() && register.is_some() {
                // A later register is a proposal: it comes into force only with its quorum of
                // `register-approval` records (verification replays that; the archive keeps the
                // register in force until it reopens the chain).
                let text = match crate::details::Details::of(&st) {
                    Ok(crate::details::Details::RegisterChange(c)) => c.register,
                    _ => String::new(),
                };
                Identities::parse(&text, &format!("register of record {seq}"))
                    .map_err(|e| Refused(format!("refusing a register change: {e:#}")))?;
            }
            let env = seal(&st, signer)?;
            head = sha256_hex(&env);
            if let Some((_, id)) = signed_by.filter(|_| rules.known()) {
                // The verifier's own checks of this record after the chain's last, one piece of code.
                rules.admit(kind, id, &st, &head).map_err(|r| Refused(format!("refusing a {kind} record that verification would reject: {r}")))?;
            }
            refs.push(RecordRef { sequence: seq, hash: head.clone(), kind });
            bytes.push(env);
            seq += 1;
        }
        let cp = Checkpoint { sequence: seq - 1, hash: head.clone(), time: now_rfc3339() };
        let last_signer = last_signer.expect("at least one item");
        if let Err(e) = self.store.append(first, &previous, &bytes, &sign_checkpoint(&cp, last_signer)?) {
            if e.is::<HeadBehind>() {
                // The records are in: this archive continues after them.
                self.next = seq;
                self.head = head;
                self.last_time = last_time;
                self.identities = register;
                self.rules = rules;
                self.skips.clear();
            }
            return Err(e);
        }
        self.skips.clear();
        self.next = seq;
        self.head = head;
        self.last_time = last_time;
        self.identities = register;
        self.rules = rules;
        Ok(refs)
    }
}

/// The detail that carries an append's client-chosen id: a retry finds its own record by it.
pub const APPEND_ID: &str = "append_id";

/// How many records from the tail a retry searches for its own append id.
pub const OWN_RECORD_WINDOW: usize = 128;

/// A fresh append id (128 random bits, hex).
pub fn new_append_id() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

/// What an idempotent append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub record: RecordRef,
    /// The append id the record carries.
    pub append_id: String,
    /// The record was already in the chain (an earlier attempt whose answer was lost wrote it).
    pub already: bool,
    /// The record is stored but the head could not be moved to it (why); the next append moves it.
    pub head_behind: Option<String>,
}

/// How often an append is tried and how long it waits between tries.
#[derive(Clone, Copy, Debug)]
pub struct AppendRetry {
    pub attempts: u32,
    pub backoff: std::time::Duration,
}

impl Default for AppendRetry {
    fn default() -> Self {
        AppendRetry { attempts: 64, backoff: std::time::Duration::from_millis(20) }
    }
}

impl<S: Store> EvidenceArchive<S> {
    /// The record of `fields`' append id among the last [`OWN_RECORD_WINDOW`] records: signed by
    /// `signer` (its one signature verifies with the signer's key: KMS ECDSA signatures are not
    /// deterministic, so re-signing to compare bytes would not do) with the same kind and
    /// content (the time aside). The same id on different content is refused.
    pub fn find_own(&self, kind: Kind, fields: &Fields, signer: &Signer) -> Result<Option<RecordRef>> {
        let Some(id) = fields.details.get(APPEND_ID).and_then(|v| v.as_str()) else { return Ok(None) };
        let mine = statement(kind, fields.clone(), signer.identity(), 0, GENESIS)?;
        for rec in self.store.recent(OWN_RECORD_WINDOW)?.into_iter().rev() {
            let Ok(env) = serde_json::from_slice::<Envelope>(&rec.bytes) else { continue };
            let Ok(payload) = env.payload_bytes() else { continue };
            let Ok(st) = serde_json::from_slice::<Statement>(&payload) else { continue };
            if st.predicate.details.get(APPEND_ID).and_then(|v| v.as_str()) != Some(id) {
                continue;
            }
            if !signed_by(&env, &payload, signer) || env.to_canonical() != rec.bytes[..] {
                continue; // not signed by this signer: someone else's (or a forgery): not ours
            }
            let (a, b) = (&st.predicate, &mine.predicate);
            // The skips the archive recorded in it are not the caller's content.
            let mut stored = a.details.clone();
            stored.remove(crate::quarantine::QUARANTINED);
            let same = st.predicate_type == mine.predicate_type
                && st.subject == mine.subject
                && (&a.identity, &a.release, &a.environment, &a.account, &a.ticket, &a.reason, &a.plan_digest, &stored)
                    == (&b.identity, &b.release, &b.environment, &b.account, &b.ticket, &b.reason, &b.plan_digest, &b.details);
            if !same {
                return Err(Refused(format!(
                    "append id {id} was already used by record {} ({}) with different content: choose a new id",
                    st.predicate.chain.sequence, rec.location
                ))
                .into());
            }
            return Ok(Some(RecordRef { sequence: st.predicate.chain.sequence, hash: sha256_hex(&rec.bytes), kind }));
        }
        Ok(None)
    }

    /// Moves the head to `record` when it is behind it (signed by `signer`).
    pub fn complete_head(&mut self, record: &RecordRef, signer: &Signer) -> Result<()> {
        if self.store.checkpoint()?.is_some_and(|cp| cp.sequence >= record.sequence) {
            return Ok(());
        }
        // Only the chain's last record can be the head: a later record moves the head itself.
        if record.sequence + 1 != self.next {
            return Ok(());
        }
        let cp = Checkpoint { sequence: record.sequence, hash: record.hash.clone(), time: now_rfc3339() };
        self.store.advance_head(record.sequence, &sign_checkpoint(&cp, signer)?)
    }
}

/// Appends one record exactly once, as a retrying writer must: each try opens the archive
/// afresh (`open`: the store and the register the caller trusts), looks for its own record by
/// the append id in `fields` (one is added when absent), and only then writes. Another writer
/// first ([`HeadMoved`]) or a write without a definite answer ([`WriteUncertain`]) is tried
/// again after a backoff; a record stored with its head behind ([`HeadBehind`]) gets its head
/// moved on the next try. A refusal is final.
pub fn append_once<S: Store>(
    mut open: impl FnMut() -> Result<EvidenceArchive<S>>,
    kind: Kind,
    mut fields: Fields,
    signer: &Signer,
    retry: AppendRetry,
) -> Result<Appended> {
    let mut last: Option<anyhow::Error> = None;
    // A caller-chosen id may be a rerun of an append whose answer was lost: look first.
    let mut search = fields.details.contains_key(APPEND_ID);
    if !search {
        fields.details.insert(APPEND_ID.into(), new_append_id().into());
    }
    let append_id = fields.details.get(APPEND_ID).and_then(|v| v.as_str()).context("the append id must be a string")?.to_string();
    for attempt in 0..retry.attempts.max(1) {
        if attempt > 0 {
            let jitter = u64::from(rand::random::<u16>() % 50);
            let wait = retry.backoff.saturating_mul(attempt.min(20)) + std::time::Duration::from_millis(jitter);
            std::thread::sleep(wait);
        }
        let mut archive = match open() {
            Ok(a) => a,
            // Nothing was written: the store moved between its verification and the head read
            // (or a local file's last line is still being written).
            Err(e) if e.is::<HeadMoved>() || format!("{e:#}").contains("incomplete last line") => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if search {
            if let Some(found) = archive.find_own(kind, &fields, signer)? {
                let head_behind = archive.complete_head(&found, signer).err().map(|e| format!("{e:#}"));
                return Ok(Appended { record: found, append_id, already: true, head_behind });
            }
        }
        match archive.append(kind, fields.clone(), signer) {
            Ok(record) => return Ok(Appended { record, append_id, already: false, head_behind: None }),
            Err(e) if e.is::<Refused>() => return Err(e),
            // Nothing was written: another writer holds that sequence (or a local file's last line
            // is still being written).
            Err(e) if e.is::<HeadMoved>() || format!("{e:#}").contains("incomplete last line") => last = Some(e),
            // Written, or maybe written: the next try looks for it before writing again.
            Err(e) if e.is::<HeadBehind>() || e.is::<WriteUncertain>() => {
                search = true;
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    let attempts = retry.attempts;
    Err(last.expect("at least one attempt")).with_context(|| format!("the append did not complete in {attempts} attempts"))
}
