//! S3 requests made by this process, counted by operation (ListObjectVersions pages,
//! GetObject, HeadObject, PutObject, the rest): what `cargo xtask bench chain` prints beside
//! each figure, to tell an O(new records) command from an O(chain) one (issue 36).
//!
//! A counter, nothing else: every S3 client [`crate::aws::s3_with`] and
//! [`crate::aws_setup`] build carries the interceptor, which counts an operation once however often the SDK retries it.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::config::interceptors::{AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::operation::{
    get_object::GetObjectInput, head_object::HeadObjectInput, list_object_versions::ListObjectVersionsInput,
    list_object_versions::ListObjectVersionsOutput,
    list_objects_v2::ListObjectsV2Input, put_object::PutObjectInput,
};

static LIST: AtomicU64 = AtomicU64::new(0);
static GET: AtomicU64 = AtomicU64::new(0);
static HEAD: AtomicU64 = AtomicU64::new(0);
static PUT: AtomicU64 = AtomicU64::new(0);
static OTHER: AtomicU64 = AtomicU64::new(0);
static VERSIONS: AtomicU64 = AtomicU64::new(0);

/// Requests counted since the process started (or since an earlier [`Calls::now`] subtracted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// Listing pages (ListObjectVersions and ListObjectsV2).
    pub list: u64,
    pub get: u64,
    pub head: u64,
    pub put: u64,
    pub other: u64,
    /// Object versions and delete markers the ListObjectVersions pages held (what a listing
    /// costs beyond its pages: O(new records) or O(chain), issue 36).
    pub versions: u64,
}

impl Calls {
    /// The counts so far.
    pub fn now() -> Calls {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Calls { list: l(&LIST), get: l(&GET), head: l(&HEAD), put: l(&PUT), other: l(&OTHER), versions: l(&VERSIONS) }
    }

    /// The requests made since `earlier`.
    pub fn since(earlier: Calls) -> Calls {
        let n = Calls::now();
        Calls {
            list: n.list - earlier.list,
            get: n.get - earlier.get,
            head: n.head - earlier.head,
            put: n.put - earlier.put,
            other: n.other - earlier.other,
            versions: n.versions - earlier.versions,
        }
    }
}

impl std::fmt::Display for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "S3: {} list pages ({} versions listed), {} GET, {} HEAD, {} PUT, {} other",
            self.list, self.versions, self.get, self.head, self.put, self.other
        )
    }
}

/// The interceptor on every S3 client this crate builds.
#[derive(Debug)]
pub(crate) struct Count;

impl Intercept for Count {
    fn name(&self) -> &'static str {
        "lz-s3-call-count"
    }

    fn read_before_execution(&self, context: &BeforeSerializationInterceptorContextRef<'_>, _: &mut ConfigBag) -> Result<(), BoxError> {
        let input = context.input();
        let counter = if input.downcast_ref::<ListObjectVersionsInput>().is_some() || input.downcast_ref::<ListObjectsV2Input>().is_some() {
            &LIST
        } else if input.downcast_ref::<GetObjectInput>().is_some() {
            &GET
        } else if input.downcast_ref::<HeadObjectInput>().is_some() {
            &HEAD
        } else if input.downcast_ref::<PutObjectInput>().is_some() {
            &PUT
        } else {
            &OTHER
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(page) = context.output_or_error().ok().and_then(|o| o.downcast_ref::<ListObjectVersionsOutput>()) {
            VERSIONS.fetch_add((page.versions().len() + page.delete_markers().len()) as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}
