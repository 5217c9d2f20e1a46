//! The renderer's hash maps and sets, keyed by the configuration's own names: foldhash's
//! hasher, seeded per process, instead of the standard library's SipHash, which was about a
//! tenth of the instructions of a render (issue 29: the property suite). A leaf module: it
//! imports none of the renderer's.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
