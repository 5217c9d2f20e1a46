//! A small in-process TCP relay that moves the `Date` header of every answer: an attacker on
//! the network between the command line and a plain-HTTP endpoint (issue 24's clock attack).
//! It reads one HTTP/1.1 request (head and `Content-Length` body), forwards it upstream with
//! `Connection: close`, reads the answer to its end, shifts its `Date` header by `shift` and
//! passes it on.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct DateRelay {
    addr: SocketAddr,
    shifted: Arc<AtomicUsize>,
}

impl DateRelay {
    /// A relay on a free loopback port in front of `upstream` (`http://host:port`).
    pub fn start(upstream: &str, shift: time::Duration) -> DateRelay {
        let hostport = upstream.trim_start_matches("http://").trim_end_matches('/');
        let upstream: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(hostport).unwrap().next().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shifted = Arc::new(AtomicUsize::new(0));
        let counter = shifted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, shift, &counter);
                });
            }
        });
        DateRelay { addr, shifted }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers whose `Date` header was moved.
    pub fn shifted(&self) -> usize {
        self.shifted.load(Ordering::SeqCst)
    }
}

fn serve(mut client: TcpStream, upstream: SocketAddr, shift: time::Duration, counter: &AtomicUsize) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name != "connection" && name != "keep-alive" && name != "expect" {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(out.as_bytes())?;
    up.write_all(&buf[head_end..])?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let at = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&answer[..at]).to_string();
    let mut moved = String::new();
    for line in head.split_inclusive("\r\n") {
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("date") => {
                let t = lz_promote::clock::parse_http_date(v.trim()).expect("an HTTP date") + shift;
                let fmt = time::macros::format_description!(
                    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
                );
                moved.push_str(&format!("Date: {}\r\n", t.format(&fmt).unwrap()));
                counter.fetch_add(1, Ordering::SeqCst);
            }
            _ => moved.push_str(line),
        }
    }
    client.write_all(moved.as_bytes())?;
    client.write_all(&answer[at..])?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
