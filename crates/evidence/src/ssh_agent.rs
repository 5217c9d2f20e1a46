//! An ed25519 key held by an ssh-agent (a person's key in OpenSSH's agent, a hardware token
//! behind one): the private key never leaves the agent. The agent signs the message itself with
//! plain ed25519, so the signature is the one [`crate::signer::Ed25519File`] would make and the
//! register names the key as an ordinary ed25519 key.
//!
//! Two requests of the agent protocol (draft-miller-ssh-agent): `REQUEST_IDENTITIES` (11 ->
//! `IDENTITIES_ANSWER` 12) and `SIGN_REQUEST` (13 -> `SIGN_RESPONSE` 14, or `FAILURE` 5). Every
//! signature the agent returns is verified against the key before it is used. The socket path
//! is the caller's (the CLI passes `SSH_AUTH_SOCK`): nothing here reads the environment.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::keys::PublicKey;
use crate::signer::SignerBackend;

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const ED25519: &[u8] = b"ssh-ed25519";
/// The longest answer read from an agent.
const MAX_ANSWER: usize = 256 * 1024;

/// An ed25519 key of the agent at `socket`.
pub struct SshAgent {
    socket: PathBuf,
    key: ed25519_dalek::VerifyingKey,
    comment: String,
}

/// One ed25519 key an agent holds: its public key and comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentKey {
    pub key: ed25519_dalek::VerifyingKey,
    pub comment: String,
}

impl SshAgent {
    /// The agent's ed25519 key whose comment is `comment`, or its only ed25519 key when
    /// `comment` is `None` (several keys and no comment is an error naming them).
    pub fn connect(socket: &Path, comment: Option<&str>) -> Result<SshAgent> {
        let keys = ed25519_keys(socket)?;
        let pick: Vec<&AgentKey> = keys.iter().filter(|k| comment.is_none_or(|c| k.comment == c)).collect();
        let names = || keys.iter().map(|k| format!("{:?}", k.comment)).collect::<Vec<_>>().join(", ");
        match (pick.as_slice(), comment) {
            ([one], _) => Ok(SshAgent { socket: socket.to_path_buf(), key: one.key, comment: one.comment.clone() }),
            ([], Some(c)) => bail!("the ssh-agent at {} holds no ed25519 key with comment {c:?} (its ed25519 keys: {})", socket.display(), names()),
            ([], None) => bail!("the ssh-agent at {} holds no ed25519 key (`ssh-add` one)", socket.display()),
            (_, _) => bail!("the ssh-agent at {} holds several ed25519 keys ({}): name one with --key ssh-agent:COMMENT", socket.display(), names()),
        }
    }
}

/// The ed25519 keys the agent at `socket` holds (other key types are left out).
pub fn ed25519_keys(socket: &Path) -> Result<Vec<AgentKey>> {
    let answer = request(socket, &[REQUEST_IDENTITIES])?;
    let mut r = Reader::new(&answer);
    let kind = r.byte()?;
    if kind != IDENTITIES_ANSWER {
        bail!("the ssh-agent answered message {kind} to a request for its identities");
    }
    let n = r.u32()?;
    let mut out = Vec::new();
    for _ in 0..n {
        let blob = r.string()?;
        let comment = String::from_utf8_lossy(r.string()?).into_owned();
        if let Some(key) = ed25519_blob(blob)? {
            out.push(AgentKey { key, comment });
        }
    }
    Ok(out)
}

/// The ed25519 public key of an SSH key blob (`string "ssh-ed25519", string key`), `None` for
/// another key type.
fn ed25519_blob(blob: &[u8]) -> Result<Option<ed25519_dalek::VerifyingKey>> {
    let mut r = Reader::new(blob);
    if r.string()? != ED25519 {
        return Ok(None);
    }
    let raw: [u8; 32] = r.string()?.try_into().map_err(|_| anyhow::anyhow!("an ssh-ed25519 key blob whose key is not 32 bytes"))?;
    Ok(Some(ed25519_dalek::VerifyingKey::from_bytes(&raw).context("an ssh-ed25519 key that is not a curve point")?))
}

fn key_blob(key: &ed25519_dalek::VerifyingKey) -> Vec<u8> {
    let mut b = Vec::new();
    put_string(&mut b, ED25519);
    put_string(&mut b, key.as_bytes());
    b
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// One request and its answer (both without the length prefix).
fn request(socket: &Path, body: &[u8]) -> Result<Vec<u8>> {
    let mut s = UnixStream::connect(socket).with_context(|| format!("connecting to the ssh-agent at {}", socket.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut msg = (body.len() as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(body);
    s.write_all(&msg).context("writing to the ssh-agent")?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len).context("reading the ssh-agent's answer")?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_ANSWER {
        bail!("the ssh-agent answered with a message of {len} bytes");
    }
    let mut answer = vec![0u8; len];
    s.read_exact(&mut answer).context("reading the ssh-agent's answer")?;
    Ok(answer)
}

impl SignerBackend for SshAgent {
    fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key)
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        let mut body = vec![SIGN_REQUEST];
        put_string(&mut body, &key_blob(&self.key));
        put_string(&mut body, message);
        body.extend_from_slice(&0u32.to_be_bytes());
        let answer = request(&self.socket, &body)?;
        let mut r = Reader::new(&answer);
        let kind = r.byte()?;
        if kind != SIGN_RESPONSE {
            bail!("the ssh-agent refused to sign with {} (message {kind}; a confirmation declined, a locked agent?)", self.describe());
        }
        let mut sig = Reader::new(r.string()?);
        if sig.string()? != ED25519 {
            bail!("the ssh-agent answered a signature that is not ssh-ed25519");
        }
        let bytes: [u8; 64] = sig.string()?.try_into().map_err(|_| anyhow::anyhow!("the ssh-agent answered an ed25519 signature that is not 64 bytes"))?;
        self.key
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
            .with_context(|| format!("the signature the ssh-agent made with {} does not verify", self.describe()))?;
        Ok(bytes)
    }

    fn describe(&self) -> String {
        format!("ed25519 key {:?} in the ssh-agent at {}", self.comment, self.socket.display())
    }
}

/// Reads the agent protocol's big-endian fields, never past the end.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() < n {
            bail!("the ssh-agent's answer ends early");
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn string(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_foreign_answers_are_errors_not_panics() {
        assert!(Reader::new(&[0, 0, 0, 9, 1]).string().is_err());
        assert!(ed25519_blob(&[0, 0, 0, 7, b's', b's', b'h', b'-', b'r', b's', b'a']).unwrap().is_none());
        let mut short = Vec::new();
        put_string(&mut short, ED25519);
        put_string(&mut short, &[1, 2, 3]);
        assert!(ed25519_blob(&short).is_err());
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        assert_eq!(ed25519_blob(&key_blob(&key)).unwrap(), Some(key));
    }
}
