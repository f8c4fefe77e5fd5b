//! A local stand-in for the Hugging Face hub, for tests of downloading (feature `testing`): it
//! answers `GET /{owner}/{name}/resolve/{revision}/{file}` with the headers hf-hub reads (`ETag`,
//! `X-Repo-Commit`, `Content-Range`) and honours byte ranges, so resumed downloads can be checked.
//! It can hold a transfer after a number of bytes until released, to test cancelling mid-file.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// The commit every served repository is at.
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[derive(Default)]
struct Hold {
    after: Option<u64>,
    released: bool,
}

struct Shared {
    files: HashMap<String, Vec<u8>>,
    requests: Mutex<Vec<String>>,
    hold: Mutex<Hold>,
    wake: Condvar,
    stop: AtomicBool,
}

/// A hub on `127.0.0.1` serving fixed files until dropped.
pub struct LocalMirror {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl LocalMirror {
    /// Serve `files`: (repository id, file name, contents).
    pub fn serve(files: Vec<(&str, &str, Vec<u8>)>) -> std::io::Result<LocalMirror> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            files: files
                .into_iter()
                .map(|(repo, file, bytes)| (format!("{repo}/{file}"), bytes))
                .collect(),
            requests: Mutex::new(Vec::new()),
            hold: Mutex::new(Hold::default()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let server = shared.clone();
        std::thread::Builder::new()
            .name("local-hub-mirror".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if server.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = server.clone();
                    std::thread::spawn(move || {
                        let _ = answer(&shared, stream);
                    });
                }
            })?;
        Ok(LocalMirror { address, shared })
    }

    /// The address to download from (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request so far, as `FILE RANGE` (`-` without a range), in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Stop every transfer after its first `bytes` bytes of body until [`LocalMirror::release`].
    pub fn hold_after(&self, bytes: u64) {
        if let Ok(mut hold) = self.shared.hold.lock() {
            *hold = Hold {
                after: Some(bytes),
                released: false,
            };
        }
    }

    /// Let held transfers go on.
    pub fn release(&self) {
        if let Ok(mut hold) = self.shared.hold.lock() {
            hold.released = true;
        }
        self.shared.wake.notify_all();
    }
}

impl Drop for LocalMirror {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.release();
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// Answer one request on `stream`, then close it.
fn answer(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    // /{owner}/{name}/resolve/{revision}/{file}
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    let key = match parts.as_slice() {
        [owner, name, "resolve", _revision, file] => format!("{owner}/{name}/{file}"),
        _ => String::new(),
    };
    if let Ok(mut requests) = shared.requests.lock() {
        let file = key.rsplit('/').next().unwrap_or("");
        requests.push(format!("{file} {}", range.as_deref().unwrap_or("-")));
    }
    let Some(bytes) = shared.files.get(&key) else {
        write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    };
    let size = bytes.len() as u64;
    let (start, end) = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| {
            let start = a.parse().unwrap_or(0);
            let end = b
                .parse()
                .map_or(size.saturating_sub(1), |e: u64| e.min(size.saturating_sub(1)));
            (start, end)
        })
        .unwrap_or((0, size.saturating_sub(1)));
    if start >= size {
        write!(
            stream,
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{size}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    let etag = format!("{:016x}", fnv1a(bytes));
    let body = &bytes[start as usize..=end as usize];
    write!(
        stream,
        "HTTP/1.1 206 Partial Content\r\nETag: \"{etag}\"\r\nX-Repo-Commit: {COMMIT}\r\n\
         Content-Range: bytes {start}-{end}/{size}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    let held = shared.hold.lock().ok().and_then(|h| h.after).unwrap_or(u64::MAX) as usize;
    if body.len() > 1 && held < body.len() {
        stream.write_all(&body[..held])?;
        stream.flush()?;
        let mut hold = shared.hold.lock().map_err(|_| std::io::Error::other("poisoned"))?;
        while !hold.released {
            hold = shared.wake.wait(hold).map_err(|_| std::io::Error::other("poisoned"))?;
        }
        drop(hold);
        stream.write_all(&body[held..])?;
    } else {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// A content hash for the `ETag` (FNV-1a, 64 bits).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
