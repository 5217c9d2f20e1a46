//! One listing of the object versions under a prefix, page by page, into plain entries: what
//! [`super::S3Store`]'s integrity report reads. The records and the head are listed as two
//! listings side by side; the head's may stop early (see [`Stop`]).

use anyhow::{Context, Result};
use aws_sdk_s3::Client;

use super::aws_error;

/// An object version as listed.
pub(super) struct Version {
    pub(super) key: String,
    pub(super) id: Option<String>,
    pub(super) latest: bool,
    /// Last modified, in nanoseconds.
    pub(super) modified: i128,
    pub(super) etag: Option<String>,
}

/// A delete marker as listed.
pub(super) struct Marker {
    pub(super) key: String,
    pub(super) id: Option<String>,
    /// The marker is its key's latest version (the key reads as deleted).
    pub(super) latest: bool,
}

/// Every version and delete marker a listing returned, in listing order (keys ascending, a
/// key's versions newest first).
#[derive(Default)]
pub(super) struct Listed {
    pub(super) versions: Vec<Version>,
    pub(super) markers: Vec<Marker>,
    /// Pages read.
    pub(super) pages: u64,
}

/// When a listing may stop before its end: after the first page holding a version that
/// `seen` says was listed before (`None`: never).
pub(super) type Stop<'a> = Option<&'a dyn Fn(&Version) -> bool>;

/// Lists the versions under `prefix` (of the keys after `after`, all with `None`), page after
/// page (`max_keys` a page, the service's default with `None`), to the end or until `stop`.
pub(super) async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    after: Option<String>,
    stop: Stop<'_>,
    max_keys: Option<i32>,
) -> Result<Listed> {
    let mut out = Listed::default();
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (after, None);
    loop {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_max_keys(max_keys)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(aws_error)
            .with_context(|| format!("cannot list the versions of s3://{bucket}/{prefix}"))?;
        out.pages += 1;
        out.markers.extend(page.delete_markers().iter().map(|m| Marker {
            key: m.key().unwrap_or_default().to_string(),
            id: m.version_id().map(String::from),
            latest: m.is_latest() == Some(true),
        }));
        let first = out.versions.len();
        out.versions.extend(page.versions().iter().map(|v| Version {
            key: v.key().unwrap_or_default().to_string(),
            id: v.version_id().map(String::from),
            latest: v.is_latest() == Some(true),
            modified: v.last_modified().map(|t| t.as_nanos()).unwrap_or_default(),
            etag: v.e_tag().map(String::from),
        }));
        if stop.is_some_and(|seen| out.versions[first..].iter().any(seen)) {
            break;
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(String::from);
        version_marker = page.next_version_id_marker().map(String::from);
        if key_marker.is_none() {
            break;
        }
    }
    Ok(out)
}
