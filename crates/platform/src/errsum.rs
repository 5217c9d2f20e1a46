//! One-line summaries of the raw errors the AWS SDK and Terraform produce (issue 28, item 7).
//!
//! An SDK error printed through `DisplayErrorContext` carries the whole HTTP response, and a
//! Terraform failure carries its boxed multi-line output: about 2 KB in which the cause is one
//! phrase. [`summarise`] recognises those shapes in an error's text and returns what failed, the
//! cause and the command that fixes it, on one line; `cargo xtask -v` prints the full text.
//! An error of any other shape is left as it is (`None`): the harness's own messages already
//! name file, line and fix.

/// A recognised error: `context` is what the command was doing (the outermost message), `cause`
/// what went wrong, `fix` what resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub context: String,
    pub cause: String,
    pub fix: Option<String>,
}

impl Summary {
    /// The one line: `context: cause; fix: ...`.
    pub fn line(&self) -> String {
        let mut s = if self.context.is_empty() { self.cause.clone() } else { format!("{}: {}", self.context, self.cause) };
        if let Some(fix) = &self.fix {
            s.push_str("; fix: ");
            s.push_str(fix);
        }
        s
    }
}

/// The longest a context taken from an error's outermost message may be.
const CONTEXT_MAX: usize = 160;

/// The summary of an error chain (outermost message first), or `None` when it is neither an
/// AWS SDK nor a Terraform error.
pub fn summarise<S: AsRef<str>>(chain: &[S]) -> Option<Summary> {
    let full: String = chain.iter().map(|m| m.as_ref()).collect::<Vec<_>>().join("\n");
    let (cause, fix) = terraform(&full).or_else(|| aws(&full))?;
    // What the command was doing: the outermost message when it is the harness's own (one short
    // line, not itself the raw dump).
    let context = chain
        .first()
        .map(|m| m.as_ref().lines().next().unwrap_or("").trim().to_string())
        .filter(|c| c.len() <= CONTEXT_MAX && !raw(c))
        .unwrap_or_default();
    Some(Summary { context, cause, fix })
}

/// Whether a message line is itself raw SDK or Terraform output.
fn raw(line: &str) -> bool {
    ["service error", "dispatch failure", "unhandled error", "Error {", "│", "╷", "Error:", "response error"].iter().any(|p| line.contains(p))
}

/// The value of `key: "value"` in a Debug-printed SDK error (`code: "NoSuchBucket"`).
fn debug_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let i = text.find(&format!("{key}: \""))? + key.len() + 3;
    let rest = &text[i..];
    Some(&rest[..rest.find('"')?])
}

/// The text between `<Tag>` and `</Tag>` (an S3 XML error body).
fn xml_field<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let i = text.find(&format!("<{tag}>"))? + tag.len() + 2;
    let rest = &text[i..];
    Some(&rest[..rest.find("</")?])
}

const STORES_FIX: &str = "create the stores with `cargo xtask bootstrap --stores --as ID --key FILE` (or correct the bucket in governance/stores.toml)";
const ENDPOINT_FIX: &str = "start LocalStack with `cargo xtask localstack up`, or check the endpoint (LZ_LOCALSTACK_ENDPOINT, governance/aws.toml)";
const CREDENTIALS_FIX: &str = "provide AWS credentials for the account (a profile, web identity or the role of governance/aws.toml)";

/// An AWS SDK error: its error code and message, or the transport failure.
fn aws(full: &str) -> Option<(String, Option<String>)> {
    // `api error CODE: message` is how the Go SDK (inside Terraform's provider) prints one.
    let api = full.find("api error ").map(|i| &full[i + 10..]).and_then(|r| r.lines().next()).and_then(|r| r.split_once(": "));
    // `service error: CODE: message` is how a modelled SDK error prints.
    let modelled = full
        .find("service error: ")
        .map(|i| &full[i + 15..])
        .and_then(|r| r.split_once(": "))
        .filter(|(c, _)| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric()) && c.starts_with(|ch: char| ch.is_ascii_uppercase()))
        .map(|(c, m)| (c, m.split(": ").next().unwrap_or(m).trim()));
    let code = debug_field(full, "code").or_else(|| xml_field(full, "Code")).or(api.map(|a| a.0)).or(modelled.map(|m| m.0));
    let message = debug_field(full, "message").or_else(|| xml_field(full, "Message")).or(api.map(|a| a.1.trim())).or(modelled.map(|m| m.1));
    let bucket = xml_field(full, "BucketName");
    if let Some(code) = code {
        let said = message.map(|m| format!(" ({m})")).unwrap_or_default();
        let on = bucket.map(|b| format!(" {b}")).unwrap_or_default();
        return Some(match code {
            "NoSuchBucket" => (format!("the bucket{on} does not exist (AWS NoSuchBucket)"), Some(STORES_FIX.to_string())),
            "NoSuchKey" => ("the object does not exist (AWS NoSuchKey)".into(), None),
            "AccessDenied" | "AccessDeniedException" | "Forbidden" => {
                (format!("AWS denied the request ({code}{said})"), Some("grant the calling role the action, or run as the role that holds it".into()))
            }
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "ExpiredTokenException" | "UnrecognizedClientException"
            | "InvalidClientTokenId" => (format!("AWS rejected the credentials ({code}{said})"), Some(CREDENTIALS_FIX.to_string())),
            "BucketAlreadyOwnedByYou" | "BucketAlreadyExists" => (format!("the bucket{on} already exists ({code})"), None),
            "ObjectLockConfigurationNotFoundError" => {
                (format!("the bucket{on} has no Object Lock configuration ({code})"), Some(STORES_FIX.to_string()))
            }
            "ResourceNotFoundException" | "NotFoundException" | "NoSuchEntity" => {
                (format!("the AWS resource does not exist ({code}{said})"), Some("create it with `cargo xtask bootstrap`".into()))
            }
            _ => (format!("AWS returned {code}{said}"), None),
        });
    }
    let lower = full.to_lowercase();
    if lower.contains("dispatch failure") || lower.contains("connection refused") || lower.contains("tcp connect error") {
        let what = if lower.contains("connection refused") { "connection refused" } else { "the request could not be sent" };
        return Some((format!("cannot reach the AWS endpoint ({what})"), Some(ENDPOINT_FIX.to_string())));
    }
    if lower.contains("timeout") && (lower.contains("dispatch") || lower.contains("service error") || lower.contains("operation timed out")) {
        return Some(("the AWS endpoint did not answer in time".into(), Some(ENDPOINT_FIX.to_string())));
    }
    if lower.contains("no credentials") || lower.contains("failed to load credentials") || lower.contains("credentials provider") {
        return Some(("no AWS credentials were found".into(), Some(CREDENTIALS_FIX.to_string())));
    }
    if let Some(status) = lower.find("service error").and_then(|_| debug_field(full, "status")) {
        return Some((format!("AWS answered with status {status}"), None));
    }
    None
}

/// The lock Terraform reported or left behind.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LockInfo {
    pub id: String,
    pub who: String,
    pub operation: String,
    pub created: String,
}

/// Parses the "Lock Info:" block of Terraform's lock error.
pub fn parse_lock_error(text: &str) -> Option<LockInfo> {
    if !text.contains("Error acquiring the state lock") {
        return None;
    }
    let field = |name: &str| {
        text.lines()
            .map(|l| {
                l.trim_start_matches(|c: char| c == '│' || c.is_whitespace())
                    .trim_end()
            })
            .find_map(|l| {
                l.strip_prefix(&format!("{name}:"))
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    Some(LockInfo {
        id: field("ID"),
        who: field("Who"),
        operation: field("Operation"),
        created: field("Created"),
    })
}

/// A Terraform error: its `Error:` line, where it points, and the fix for the shapes known.
fn terraform(full: &str) -> Option<(String, Option<String>)> {
    let lines: Vec<&str> = full.lines().map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim_end()).collect();
    let i = lines.iter().position(|l| l.starts_with("Error: "))?;
    let title = lines[i].trim_start_matches("Error: ").trim();
    let at = lines[i + 1..]
        .iter()
        .take(4)
        .find_map(|l| {
            let rest = l.strip_prefix("on ")?;
            let (file, line) = rest.split_once(" line ")?;
            let n: String = line.chars().take_while(|c| c.is_ascii_digit()).collect();
            (!n.is_empty()).then(|| format!("{file}:{n}"))
        })
        .map(|a| format!(" at {a}"))
        .unwrap_or_default();
    let lower = full.to_lowercase();
    if title.starts_with("Error acquiring the state lock") || lower.contains("conditionalcheckfailedexception") && lower.contains("lock") {
        let lock = parse_lock_error(full).filter(|l| !l.id.is_empty());
        let by = lock.as_ref().filter(|l| !l.who.is_empty()).map(|l| format!(" ({}, {})", l.who, l.operation)).unwrap_or_default();
        let id = lock.as_ref().map_or("LOCK_ID", |l| l.id.as_str());
        let fix = format!(
            "wait for the other run to finish; if it died, rerun the promotion with `--recover`, which records a signed \
             lock-recovery record before it releases lock {id} (never `terraform force-unlock` by hand: it leaves no evidence)"
        );
        return Some((format!("the Terraform state is locked by another run{by}"), Some(fix)));
    }
    if title.starts_with("Failed to query available provider packages")
        || title.starts_with("Failed to install provider")
        || title.starts_with("Inconsistent dependency lock file")
        || title.starts_with("Required plugins are not installed")
    {
        return Some((format!("Terraform could not install its providers ({title})"), Some("run `cargo xtask setup` (bootstraps the pinned providers into .tools/)".into())));
    }
    if title.starts_with("Backend initialization required") || title.starts_with("Module not installed") {
        return Some((format!("Terraform is not initialised ({title})"), Some("run `terraform init` in the configuration (the harness does so on its next run)".into())));
    }
    // The rest of an `Error:` block: the first sentence of its detail, after the location lines.
    let detail = lines[i + 1..]
        .iter()
        .skip_while(|l| l.is_empty() || l.starts_with("on ") || l.starts_with("with ") || l.contains(": ") && l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .find(|l| !l.is_empty())
        .map(|l| format!(": {}", l.trim()))
        .unwrap_or_default();
    let aws = aws(full).map(|(c, f)| (format!(" ({c})"), f));
    let (via, fix) = aws.unwrap_or_default();
    Some((format!("Terraform: {title}{at}{detail}{via}"), fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The S3 NoSuchBucket error as `DisplayErrorContext` prints it (abridged response).
    const NO_BUCKET: &str = "service error: unhandled error (NoSuchBucket): Error { code: \"NoSuchBucket\", message: \"The specified bucket does not exist\", aws_request_id: \"d1c2\", s3_extended_request_id: \"s9lz\" } (ServiceError(ServiceError { source: Unhandled(Unhandled { source: ErrorMetadata { code: Some(\"NoSuchBucket\") } }), raw: Response { status: StatusCode(404), headers: Headers { headers: {\"content-type\": HeaderValue { _private: H0(\"application/xml\") }} }, body: SdkBody { inner: Once(Some(b\"<?xml version=\\\"1.0\\\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>lz-evidence-x</BucketName></Error>\")) } } }))";

    /// A modelled S3 error (no raw body in the text).
    const MODELLED: &str = "service error: NoSuchBucket: The specified bucket does not exist: NoSuchBucket: The specified bucket does not exist (ServiceError(ServiceError { source: NoSuchBucket(NoSuchBucket { message: Some(\"The specified bucket does not exist\") }) }))";

    const REFUSED: &str = "dispatch failure: io error: error trying to connect: tcp connect error: Connection refused (os error 111) (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io, source: hyper::Error(Connect, ConnectError(\"tcp connect error\", Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" })) } }))";

    const DENIED: &str = "service error: unhandled error (AccessDenied): Error { code: \"AccessDenied\", message: \"Access Denied\", aws_request_id: \"1\" }";

    const EXPIRED: &str = "service error: Error { code: \"ExpiredToken\", message: \"The security token included in the request is expired\" }";

    const LOCK: &str = "terraform plan failed (exit 1):\n╷\n│ Error: Error acquiring the state lock\n│ \n│ Error message: ConditionalCheckFailedException: The conditional request failed\n│ Lock Info:\n│   ID:        5a3e07c1-0b8d-6f5e-bd43-cd7b0d5b4d2a\n│   Path:      lz-state/dev/terraform.tfstate\n│   Operation: OperationTypePlan\n│   Who:       runner@ci\n│ \n│ Terraform acquires a state lock to protect the state from being written\n│ by multiple users at the same time.\n╵\n";

    const INVALID: &str = "terraform validate failed:\n╷\n│ Error: Unsupported argument\n│ \n│   on main.tf line 12, in resource \"aws_s3_bucket\" \"this\":\n│   12:   acl_x = \"private\"\n│ \n│ An argument named \"acl_x\" is not expected here.\n╵\n";

    const PROVIDERS: &str = "╷\n│ Error: Failed to query available provider packages\n│ \n│ Could not retrieve the list of available versions for provider hashicorp/aws: could not connect to registry.terraform.io\n╵";

    const TF_AWS: &str = "terraform apply failed:\n╷\n│ Error: creating S3 Bucket (x): operation error S3: CreateBucket, https response error StatusCode: 403, api error AccessDenied: Access Denied\n│ \n│   with aws_s3_bucket.this,\n│   on main.tf line 3, in resource \"aws_s3_bucket\" \"this\":\n╵";

    #[test]
    fn each_shape_becomes_one_line_naming_the_cause_and_the_fix() {
        // (chain, what the line must contain, the fix it must name or None)
        let table: &[(&[&str], &[&str], Option<&str>)] = &[
            (&["reading the evidence head of s3://lz-evidence-x", NO_BUCKET], &["reading the evidence head", "lz-evidence-x does not exist", "NoSuchBucket"], Some("bootstrap --stores")),
            (&["cannot list s3://lz-releases-x/releases/0123", MODELLED], &["cannot list s3://lz-releases-x", "the bucket does not exist (AWS NoSuchBucket)"], Some("bootstrap --stores")),
            (&["listing s3://lz-releases", REFUSED], &["listing s3://lz-releases", "cannot reach the AWS endpoint", "connection refused"], Some("localstack up")),
            (&["writing the record", DENIED], &["writing the record", "AWS denied the request (AccessDenied (Access Denied))"], Some("grant the calling role")),
            (&["signing", EXPIRED], &["rejected the credentials", "ExpiredToken"], Some("AWS credentials")),
            (&["drift of dev", LOCK], &["drift of dev", "state is locked"], Some("releases lock 5a3e07c1-0b8d-6f5e-bd43-cd7b0d5b4d2a")),
            (&["validating modules/s3-bucket", INVALID], &["Unsupported argument at main.tf:12", "\"acl_x\" is not expected here"], None),
            (&["terraform init", PROVIDERS], &["could not install its providers"], Some("cargo xtask setup")),
            (&["applying dev", TF_AWS], &["Terraform: creating S3 Bucket", "at main.tf:3", "(AWS denied the request (AccessDenied (Access Denied)))"], Some("grant the calling role")),
            // The raw dump as the outermost message: no context is taken from it.
            (&[NO_BUCKET], &["the bucket lz-evidence-x does not exist"], Some("bootstrap --stores")),
        ];
        for (chain, wants, fix) in table {
            let s = summarise(chain).unwrap_or_else(|| panic!("not recognised: {chain:?}"));
            let line = s.line();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.len() < 400, "{} chars: {line}", line.len());
            for w in *wants {
                assert!(line.contains(w), "{w:?} missing from {line:?}");
            }
            assert_eq!(s.fix.as_deref().map(|f| fix.is_some_and(|want| f.contains(want))), fix.map(|_| true), "fix of {line:?}");
        }
        // A raw dump is never the context.
        assert_eq!(summarise(&[NO_BUCKET]).unwrap().context, "");
    }

    #[test]
    fn the_harness_own_errors_are_left_alone() {
        for chain in [
            &["environments/dev/terraform.tfvars:3: expected `=`"][..],
            &["refused: release abc has 1 approval of 2"][..],
            &["cannot read governance/stores.toml", "No such file or directory (os error 2)"][..],
        ] {
            assert_eq!(summarise(chain), None, "{chain:?}");
        }
    }
}
