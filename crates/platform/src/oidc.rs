//! The CI run's identity: GitHub Actions' OIDC token, fetched over HTTPS and exchanged for the
//! pipeline role with `AssumeRoleWithWebIdentity` ([`crate::aws_setup::Base::GitHubActions`]).
//!
//! A job with `permissions: id-token: write` gets `ACTIONS_ID_TOKEN_REQUEST_URL` and a
//! short-lived `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; a GET of that URL with `audience=...` and the
//! request token as bearer answers `{"value": "<JWT>"}`. The request is HTTPS only, verified with
//! rustls (ring) against the system's roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set, as
//! `rustls-native-certs` reads them) plus one extra CA when a caller names one; verification is
//! never turned off. The token is asked for at each credential refresh, never written to disk.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

/// The audience AWS STS expects in a GitHub OIDC token.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";
const CONNECT: Duration = Duration::from_secs(5);
const ANSWER: Duration = Duration::from_secs(20);

/// Where a CI run asks for its OIDC token (GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL` and
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
#[derive(Clone)]
pub struct TokenRequest {
    pub url: String,
    pub bearer: String,
    /// A PEM certificate trusted besides the system's roots (tests' own issuer).
    pub extra_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TokenRequest {
    // The request token is a credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest").field("url", &self.url).field("bearer", &"<redacted>").field("extra_ca", &self.extra_ca.is_some()).finish()
    }
}

impl TokenRequest {
    /// The OIDC token for `audience`: one HTTPS GET, the answer's `value`.
    pub fn token(&self, audience: &str) -> Result<String> {
        if !self.url.starts_with("https://") {
            bail!("the OIDC token request URL {:?} is not https:// (the request carries a credential)", self.url);
        }
        let tls = Arc::new(RustlsConnector::new(self.extra_ca.as_deref())?);
        let agent = ureq::AgentBuilder::new().tls_connector(tls).timeout_connect(CONNECT).timeout_read(ANSWER).timeout_write(CONNECT).build();
        let sep = if self.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}audience={audience}", self.url);
        let answer = match agent.get(&url).set("Authorization", &format!("bearer {}", self.bearer)).set("Accept", "application/json").call() {
            Ok(a) => a,
            Err(ureq::Error::Status(code, r)) => bail!("the OIDC token request to {} answered HTTP {code} {}", self.url, r.status_text()),
            Err(ureq::Error::Transport(t)) => bail!("the OIDC token request to {}: {t}", self.url),
        };
        let text = answer.into_string().with_context(|| format!("reading the OIDC token answer of {}", self.url))?;
        let body: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("the OIDC token answer of {} is not JSON", self.url))?;
        match body.get("value").and_then(|v| v.as_str()) {
            Some(v) if v.split('.').count() == 3 => Ok(v.to_string()),
            _ => bail!("the OIDC token answer of {} has no JWT in \"value\"", self.url),
        }
    }
}

/// ureq's TLS through rustls (ring): the system's roots plus an optional extra CA.
struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
}

impl RustlsConnector {
    fn new(extra_ca: Option<&[u8]>) -> Result<RustlsConnector> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(pem) = extra_ca {
            for cert in CertificateDer::pem_slice_iter(pem) {
                roots.add(cert.context("the extra CA is not a PEM certificate")?).context("the extra CA certificate")?;
            }
        }
        if roots.is_empty() {
            bail!("no trusted root certificates (the system has none, and no CA was given)");
        }
        // The provider the AWS clients use (`CryptoMode::Ring` of aws-smithy-http-client).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(RustlsConnector { config: Arc::new(config) })
    }
}

impl ureq::TlsConnector for RustlsConnector {
    fn connect(&self, dns_name: &str, io: Box<dyn ureq::ReadWrite>) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let host = dns_name.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{dns_name}: {e}")))?;
        let conn = rustls::ClientConnection::new(self.config.clone(), name).map_err(std::io::Error::other)?;
        let mut stream = TlsStream(rustls::StreamOwned::new(conn, io));
        // Handshake now, so a certificate that does not verify fails here, named.
        while stream.0.conn.is_handshaking() {
            stream.0.conn.complete_io(&mut stream.0.sock)?;
        }
        Ok(Box::new(stream))
    }
}

struct TlsStream(rustls::StreamOwned<rustls::ClientConnection, Box<dyn ureq::ReadWrite>>);

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsStream")
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl ureq::ReadWrite for TlsStream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.sock.socket()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_is_refused_and_the_bearer_is_never_printed() {
        let r = super::TokenRequest { url: "http://127.0.0.1:1/token".into(), bearer: "s3cr3t".into(), extra_ca: None };
        let e = r.token(super::STS_AUDIENCE).unwrap_err();
        assert!(format!("{e:#}").contains("not https://"), "{e:#}");
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }
}
