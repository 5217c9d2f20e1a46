//! A small in-process TCP relay for fault tests: it stands between an AWS SDK client and
//! LocalStack, reads each HTTP/1.1 request whole, forwards it on a connection of its own
//! (`Connection: close`) and answers the client once, unless the first rule that matches the
//! request's method and path injects a fault instead: a delay, a response dropped after the
//! upstream handled the request, a hang, a reset connection, or an HTTP error status.
//! Counters say how many requests were relayed and how many faults were injected.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long, then relay as usual.
    Delay(Duration),
    /// Relay the request, let the upstream answer, then close without passing the answer on.
    DropResponse,
    /// Read the request and never answer (the connection stays open until the relay stops).
    Hang,
    /// Close the connection at once, without an answer.
    Reset,
    /// Answer with this status (an S3 `InternalError` body) without relaying the request.
    Status(u16),
}

#[derive(Clone, Debug)]
struct Rule {
    method: Option<String>,
    path: String,
    fault: Fault,
    remaining: usize,
}

struct State {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    stop: AtomicBool,
    relayed: AtomicUsize,
    injected: AtomicUsize,
}

pub struct Relay {
    addr: SocketAddr,
    state: Arc<State>,
}

/// Faults without a bound on how often they fire.
pub const ALWAYS: usize = usize::MAX;

impl Relay {
    /// A relay on a free loopback port in front of `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Relay {
        let hostport = upstream.trim_start_matches("http://").trim_end_matches('/');
        let upstream: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(hostport).unwrap().next().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream,
            rules: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            relayed: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
        });
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(&s, conn);
                });
            }
        });
        Relay { addr, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Injects `fault` into the next `times` requests whose method is `method` (any when
    /// `None`) and whose path (with query) contains `path`.
    pub fn inject(&self, method: Option<&str>, path: &str, fault: Fault, times: usize) {
        self.state.rules.lock().unwrap().push(Rule { method: method.map(String::from), path: path.into(), fault, remaining: times });
    }

    /// Removes every rule: from now on requests are relayed as they are.
    pub fn heal(&self) {
        self.state.rules.lock().unwrap().clear();
    }

    pub fn injected(&self) -> usize {
        self.state.injected.load(Ordering::SeqCst)
    }

    pub fn relayed(&self) -> usize {
        self.state.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// One HTTP message: its head (up to and including the blank line) and body.
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Message {
    fn first_line(&self) -> String {
        String::from_utf8_lossy(&self.head).lines().next().unwrap_or_default().to_string()
    }

    fn header(&self, name: &str) -> Option<String> {
        String::from_utf8_lossy(&self.head).lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The head with `Connection: close` instead of any connection or expect header.
    fn closing_head(&self) -> Vec<u8> {
        let text = String::from_utf8_lossy(&self.head);
        let mut out = String::new();
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
            if name == "connection" || name == "expect" || name == "keep-alive" {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }

    fn bytes(&self, head: &[u8]) -> Vec<u8> {
        [head, &self.body[..]].concat()
    }
}

/// Reads bytes into `buf` until it holds `\r\n\r\n`; the index after it.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(i + 4));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until `buf` holds at least `n` bytes.
fn read_to(stream: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    while buf.len() < n {
        let got = stream.read(&mut chunk)?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(())
}

/// A chunked body, read whole (chunks and the terminating empty chunk, no trailers).
fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut pos = 0;
    loop {
        let line_end = loop {
            if let Some(i) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + i;
            }
            let want = buf.len() + 1;
            read_to(stream, &mut buf, want)?;
        };
        let size_text = String::from_utf8_lossy(&buf[pos..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        let end = line_end + 2 + size + 2;
        read_to(stream, &mut buf, end)?;
        pos = end;
        if size == 0 {
            buf.truncate(end);
            return Ok(buf);
        }
    }
}

/// Reads one message; `no_body` for the answer to a HEAD request. `None` on a closed stream.
fn read_message(stream: &mut TcpStream, no_body: bool, on_expect: impl FnOnce(&mut TcpStream)) -> std::io::Result<Option<Message>> {
    let mut buf = Vec::new();
    let Some(at) = read_head(stream, &mut buf)? else { return Ok(None) };
    let rest = buf.split_off(at);
    let mut msg = Message { head: buf, body: Vec::new() };
    let status: u16 = msg.first_line().split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let is_response = msg.first_line().starts_with("HTTP/");
    if is_response && (no_body || status == 204 || status == 304 || (100..200).contains(&status)) {
        msg.body = rest;
        return Ok(Some(msg));
    }
    if msg.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        on_expect(stream);
    }
    if msg.header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        msg.body = read_chunked(stream, rest)?;
    } else if let Some(n) = msg.header("content-length").and_then(|n| n.parse::<usize>().ok()) {
        let mut body = rest;
        read_to(stream, &mut body, n)?;
        body.truncate(n);
        msg.body = body;
    } else if is_response {
        let mut body = rest;
        stream.read_to_end(&mut body)?;
        msg.body = body;
    } else {
        msg.body = rest;
    }
    Ok(Some(msg))
}

fn serve(s: &State, mut client: TcpStream) -> std::io::Result<()> {
    let Some(request) = read_message(&mut client, false, |c| {
        let _ = c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    })?
    else {
        return Ok(());
    };
    let line = request.first_line();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
    let fault = {
        let mut rules = s.rules.lock().unwrap();
        let hit = rules.iter_mut().find(|r| r.remaining > 0 && r.method.as_deref().is_none_or(|m| m == method) && path.contains(&r.path));
        hit.map(|r| {
            r.remaining = r.remaining.saturating_sub(1);
            r.fault
        })
    };
    if fault.is_some() {
        s.injected.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Some(Fault::Reset) => {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        Some(Fault::Hang) => {
            while !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(());
        }
        Some(Fault::Status(code)) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>injected by the test relay</Message><RequestId>relay</RequestId></Error>"
            );
            let head = format!("HTTP/1.1 {code} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            client.write_all(head.as_bytes())?;
            client.write_all(body.as_bytes())?;
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        Some(Fault::Delay(d)) => std::thread::sleep(d),
        Some(Fault::DropResponse) | None => {}
    }
    let mut up = TcpStream::connect(s.upstream)?;
    up.write_all(&request.bytes(&request.closing_head()))?;
    let response = loop {
        let Some(r) = read_message(&mut up, method == "HEAD", |_| {})? else {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        };
        if !r.first_line().contains(" 100 ") {
            break r;
        }
    };
    s.relayed.fetch_add(1, Ordering::SeqCst);
    if fault == Some(Fault::DropResponse) {
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    client.write_all(&response.bytes(&response.closing_head()))?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
