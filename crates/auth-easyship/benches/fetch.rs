//! One token fetch through [`auth_easyship::Client::refresh`] against its floor: a raw
//! `reqwest` POST of the same JSON body and a `serde_json` parse of the answer into a
//! struct, with the same `reqwest::Client`, against the same loopback server, in one run.
//!
//! Run with `cargo xtask bench` (prints a table) or
//! `cargo bench -p auth-easyship --bench fetch`.
//!
//! The server is a few lines of tokio: it reads a request's head and its `Content-Length`
//! body and writes back one canned answer (Easyship's documented success body, with a
//! `Date` header as a real server sends one). It does no routing and no parsing beyond
//! that, so its own cost is the same small constant for both benchmarks and the
//! difference between them is what the vendor client adds. It runs on its own thread and
//! runtime; the client side runs on a current-thread runtime on the benchmark's thread.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use auth_core::RefreshToken;
use auth_core::http::default_http_client;
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const CLIENT_ID: &str = "ixaj5e4L25axd_d6b4K2wG479_9c3itEN8eexE_67Qk";
const CLIENT_SECRET: &str = "SEKRIT-cs/9x+Yq=0123456789abcdefABCDEF";
const REFRESH_TOKEN: &str = "UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg";

/// Easyship's documented success body ("Create an Access Token"), `created_at` set to the
/// server's start so that it is within the trusted clock skew, as a real answer is.
fn success_body() -> String {
    let created_at = chrono::Utc::now().timestamp();
    format!(
        r#"{{"access_token":"test_3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8=","token_type":"Bearer","expires_in":7200,"refresh_token":"{REFRESH_TOKEN}","scope":"rate shipment label track company pickup location store product","created_at":{created_at}}}"#
    )
}

/// Starts the loopback server on its own thread; returns its address.
fn start_server() -> SocketAddr {
    let body = success_body();
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    let response: &'static [u8] = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ndate: {date}\r\ncache-control: no-store\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .leak();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("listener");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                tokio::spawn(serve(stream, response));
            }
        });
    });
    addr
}

/// Answers every request on one keep-alive connection with `response`.
async fn serve(mut stream: tokio::net::TcpStream, response: &'static [u8]) {
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::with_capacity(4096);
    loop {
        // Read until the head and its body are in, then drop them from the buffer.
        let used = loop {
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                let length = content_length(&buf[..end]);
                if buf.len() >= end + 4 + length {
                    break end + 4 + length;
                }
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..used);
        if stream.write_all(response).await.is_err() {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request's `Content-Length` (reqwest sends one for a body of known size).
fn content_length(head: &[u8]) -> usize {
    let head = std::str::from_utf8(head).expect("ASCII head");
    head.split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("content-length"))
        })
        .unwrap_or(0)
}

/// The body `Client::refresh` sends (`wire::RefreshTokenRequest`), field for field.
#[derive(Serialize)]
struct RefreshBody<'a> {
    grant_type: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    refresh_token: &'a str,
}

/// What a hand-written client would parse the answer into.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawTokenResponse {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    scope: Option<String>,
    created_at: Option<i64>,
}

/// Time of `iters` sequential calls of `call` on a current-thread runtime.
fn timed<F, Fut>(runtime: &tokio::runtime::Runtime, iters: u64, call: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            call().await;
        }
        start.elapsed()
    })
}

fn token_fetch(c: &mut Criterion) {
    let addr = start_server();
    let url: auth_core::Url = format!("http://{addr}/oauth2/token").parse().expect("url");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The client every token call uses (no redirects), shared by both benchmarks.
    let http = default_http_client(Duration::from_secs(10)).expect("http client");
    let client = auth_easyship::Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .token_url(url.clone())
        .http_client(http.clone())
        .build()
        .expect("client");
    let refresh_token = RefreshToken::new(REFRESH_TOKEN);
    // The raw call serializes its body on each call, as the vendor client does: a refresh
    // token is single-use, so no real caller can send the same bytes twice.
    let raw = || {
        let http = &http;
        let url = url.clone();
        async move {
            let body = serde_json::to_vec(&RefreshBody {
                grant_type: "refresh_token",
                client_id: CLIENT_ID,
                client_secret: CLIENT_SECRET,
                refresh_token: REFRESH_TOKEN,
            })
            .expect("body");
            let response = http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect("raw send");
            let bytes = response.bytes().await.expect("raw body");
            let parsed: RawTokenResponse = serde_json::from_slice(&bytes).expect("raw parse");
            black_box(parsed);
        }
    };
    let vendor = || {
        let client = &client;
        let refresh_token = &refresh_token;
        async move {
            black_box(client.refresh(refresh_token).await.expect("refresh"));
        }
    };
    // Both paths work, and the connection is open, before anything is measured.
    timed(&runtime, 10, raw);
    timed(&runtime, 10, vendor);

    let mut group = c.benchmark_group("token_fetch");
    group.bench_function("raw_reqwest", |b| {
        b.iter_custom(|iters| timed(&runtime, iters, raw))
    });
    group.bench_function("easyship_refresh", |b| {
        b.iter_custom(|iters| timed(&runtime, iters, vendor))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = token_fetch
}
criterion_main!(benches);
