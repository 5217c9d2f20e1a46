//! Test support (feature `test-issuer`, never in the shipped binary): a GitHub-like OIDC token
//! endpoint on `https://localhost:PORT/token`, serving a certificate and key the caller gives
//! (LocalStack's own, issued for `localhost`). It answers `{"value": JWT}` to a GET with the
//! right bearer and `audience=sts.amazonaws.com`, 401 otherwise, and counts the tokens it gave.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A JWT-shaped token (LocalStack's STS does not check web identity tokens).
pub const JWT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUvbGFuZGluZy16b25lIn0.c2lnbmF0dXJl";

pub struct Issuer {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub bearer: String,
    /// The certificate the issuer serves (to trust it explicitly).
    pub ca_file: PathBuf,
    served: Arc<AtomicUsize>,
}

impl Issuer {
    /// Starts the issuer with the PEM certificate `cert` and its key (`cert` with extension `key`).
    pub fn start(cert: &Path, bearer: &str) -> Result<Issuer> {
        let key = cert.with_extension("key");
        let certs = CertificateDer::pem_file_iter(cert)
            .with_context(|| format!("reading {}", cert.display()))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .with_context(|| format!("{}: PEM certificates", cert.display()))?;
        let key = PrivateKeyDer::from_pem_file(&key).with_context(|| format!("reading the key {}", key.display()))?;
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .context("the issuer's certificate and key")?,
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("https://localhost:{}/token?api-version=2.0", listener.local_addr()?.port());
        let served = Arc::new(AtomicUsize::new(0));
        let (count, expected) = (served.clone(), format!("authorization: bearer {bearer}"));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else { continue };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                {
                    let mut r = BufReader::new(&mut tls);
                    loop {
                        let mut line = String::new();
                        match r.read_line(&mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => head.push(line.trim_end().to_string()),
                        }
                    }
                }
                let ok = head.first().is_some_and(|l| l.starts_with("GET /token?api-version=2.0&audience=sts.amazonaws.com "))
                    && head.iter().any(|h| h.eq_ignore_ascii_case(&expected));
                let answer = if ok {
                    count.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::json!({ "value": JWT }).to_string();
                    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                } else {
                    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
                };
                let _ = tls.write_all(answer.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
            }
        });
        Ok(Issuer { url, bearer: bearer.to_string(), ca_file: cert.to_path_buf(), served })
    }

    /// How many tokens the issuer handed out.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}
