//! The serde forms of a verifier state's parts ([`super::state_digest`]): canonical (maps as
//! sorted pairs, times as Unix nanoseconds, hashes as hex, locations as the keys' place), shared
//! by the state and the replays it holds (adoptions, delegations).

/// Maps (hash or B-tree) written as a list of `[key, value]` pairs sorted by key.
pub(crate) mod sorted {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<'a, M, K, V, S>(m: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + Ord + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        let mut pairs: Vec<(&K, &V)> = m.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(pairs)
    }

    pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// A time as its Unix nanoseconds (a decimal string): the instant, whatever offset it was read with.
pub(crate) mod nanos {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.unix_timestamp_nanos().to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        let n: i128 = text.parse().map_err(D::Error::custom)?;
        OffsetDateTime::from_unix_timestamp_nanos(n).map_err(D::Error::custom)
    }
}

/// `Option<(time, its text)>` (the last record's time).
pub(crate) mod last_time {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;

    #[derive(Serialize, Deserialize)]
    struct At(#[serde(with = "super::nanos")] OffsetDateTime, String);

    pub fn serialize<S: Serializer>(t: &Option<(OffsetDateTime, String)>, s: S) -> Result<S::Ok, S::Error> {
        t.as_ref().map(|(t, text)| At(*t, text.clone())).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(OffsetDateTime, String)>, D::Error> {
        Ok(Option::<At>::deserialize(d)?.map(|At(t, text)| (t, text)))
    }
}

/// A register as its text (its fingerprint is the sha256 of that text).
pub(crate) mod register {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::identity::Identities;

    pub fn parse<E: serde::de::Error>(text: &str) -> Result<Identities, E> {
        Identities::parse(text, "register of a verifier state").map_err(|e| E::custom(format!("{e:#}")))
    }

    pub fn serialize<S: Serializer>(r: &Identities, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.source())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Identities, D::Error> {
        parse(&String::deserialize(d)?)
    }

    pub mod shared {
        use super::*;

        pub fn serialize<S: Serializer>(r: &Arc<Identities>, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(r.source())
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Identities>, D::Error> {
            parse(&String::deserialize(d)?).map(Arc::new)
        }
    }

    /// Every register with the first sequence it judges.
    pub mod history {
        use super::*;

        pub fn serialize<S: Serializer>(r: &[(u64, Arc<Identities>)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(r.iter().map(|(at, ids)| (at, ids.source())))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, Arc<Identities>)>, D::Error> {
            let raw = Vec::<(u64, String)>::deserialize(d)?;
            raw.into_iter().map(|(at, text)| parse::<D::Error>(&text).map(|ids| (at, Arc::new(ids)))).collect()
        }
    }
}

/// One sha256 (32 bytes) as hex.
pub(crate) mod hash {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let mut h = [0u8; 32];
        hex::decode_to_slice(String::deserialize(d)?, &mut h).map_err(D::Error::custom)?;
        Ok(h)
    }
}

/// Every key's sha256, as one hex string.
pub(crate) mod hashes {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hs: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hs.concat()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text).map_err(D::Error::custom)?;
        if bytes.len() % 32 != 0 {
            return Err(D::Error::custom("the hashes are not a whole number of sha256 digests"));
        }
        Ok(bytes.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32])).collect())
    }
}

/// Where each key was read: `{"keys": PREFIX, "count": N}` when key N sits at
/// `PREFIX<N:012>.json` for every key (a slotted store, or the mirror of one), else the list.
pub(crate) mod locations {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged, deny_unknown_fields)]
    enum Form {
        Keys { keys: String, count: u64 },
        List(Vec<String>),
    }

    fn prefix(ls: &[String]) -> Option<&str> {
        let p = ls.first()?.strip_suffix(&format!("{:012}.json", 0))?;
        ls.iter().enumerate().all(|(i, l)| l.len() == p.len() + 17 && l.starts_with(p) && l[p.len()..] == format!("{i:012}.json")).then_some(p)
    }

    pub fn serialize<S: Serializer>(ls: &[String], s: S) -> Result<S::Ok, S::Error> {
        match prefix(ls) {
            Some(p) => Form::Keys { keys: p.to_string(), count: ls.len() as u64 }.serialize(s),
            None => Form::List(ls.to_vec()).serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Form::deserialize(d)? {
            // The digest was checked before the bytes are read: a count this large was signed,
            // and is refused rather than allocated.
            Form::Keys { count, .. } if count > 1 << 28 => return Err(serde::de::Error::custom("more keys than a state may hold")),
            Form::Keys { keys, count } => (0..count).map(|i| format!("{keys}{i:012}.json")).collect(),
            Form::List(l) => l,
        })
    }
}
