//! `TokenCache` with many subjects, against a local token endpoint (issue 16, step 4).
//!
//! Each subject is a seller with an Amazon-LWA-sized token: a 380-character access
//! token (`Atza|...`) and a 380-character refresh token (`Atzr|...`), one hour. A
//! subject's provider is built as `SellerTokens` builds it: a refresh grant that sends
//! a real `refresh_token` request through [`TokenHttpClient`] to a loopback HTTP server,
//! the seller's refresh token as seed, one shared `MemoryStore`. Per size it measures:
//!
//! - **memory per subject**, counted by the global allocator (bytes requested: the
//!   allocator's own per-block overhead is not included), split into the providers'
//!   share (cache included) and the store's;
//! - **`token()` for a random cached subject** at 1 and 8 tasks, against one provider
//!   and against a floor measured in the same run: a `HashMap<String, Arc<u64>>` and a
//!   `quick_cache` of the same size, looked up by a random `&str` with nothing behind;
//! - **a miss at full capacity**: a *store miss* (an evicted subject coming back: its
//!   record is in the store, no token request) and a *cold miss* (a new subject: one
//!   token request to the local endpoint), median and p99 of single calls made from a
//!   task on the runtime;
//! - **a cached call's p99 and max** while another thread misses without pause;
//! - **the refresh histogram's peak second** (% of subjects) for 60 s, 600 s and 3600 s
//!   tokens, all onboarded in the same second, over four lifetimes, from the provider's
//!   own deadline arithmetic (`status().next_refresh_at`) on a `ManualClock`.
//!
//! Run with `cargo bench -p auth-core --bench many`; `MANY_SIZES=1000,10000,100000`
//! sets the sizes (default 1,000 and 10,000), `MANY_TOKEN_CHARS=43` the token length
//! (default 380). It prints a table, and one `@many {json}`
//! line per size that `cargo xtask bench --many` reads.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use auth_core::http::{RawResponse, TokenHttpClient, TokenRequest};
use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, ManualClock, MemoryStore, RefreshToken,
    StaticSource, StoreKey, Token, TokenCache, TokenSource, TokenStore, Url,
};
use chrono::{DateTime, Utc};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Length of the access and the refresh tokens: `MANY_TOKEN_CHARS`, by default 380 (LWA's
/// are about 350–400 characters); 43 is Easyship's (Doorkeeper: 32 random bytes,
/// base64url). At least 26 (the tokens' fixed prefix).
fn token_chars() -> usize {
    static CHARS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CHARS.get_or_init(|| {
        std::env::var("MANY_TOKEN_CHARS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(380)
            .max(26)
    })
}
const CLIENT_ID: &str = "amzn1.application-oa2-client.8c1fd6dbb9a24b2a9d1f24c7e5a0b3f1";

/// Bytes live on the heap now, and the number of live blocks.
fn live() -> (i64, i64) {
    let s = GLOBAL.stats();
    (
        // `realloc` is counted in both already (`bytes_reallocated` is their sum).
        s.bytes_allocated as i64 - s.bytes_deallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

// ---------------------------------------------------------------------------------------
// The local token endpoint: HTTP/1.1 with keep-alive, a new LWA-like token per request.

/// A `len`-character token starting with `prefix`, unique per `n`.
fn lwa_token(prefix: &str, n: u64, len: usize) -> String {
    let mut s = format!("{prefix}|IwEBI{n:016x}");
    let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(ALPHABET[(x % 64) as usize] as char);
    }
    s
}

/// Starts the endpoint; returns its token URL and its request counter.
async fn token_endpoint() -> (Url, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/auth/o2/token", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(serve(socket, counter));
        }
    });
    (url.parse().unwrap(), requests)
}

async fn serve(mut socket: tokio::net::TcpStream, counter: Arc<AtomicU64>) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        // Headers, then `Content-Length` bytes of body.
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let form = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
        buf.drain(..head_end + length);
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let body =
            if form.contains("grant_type=refresh_token") && form.contains("refresh_token=Atzr") {
                // LWA keeps the refresh token: it is not sent back.
                format!(
                    r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600}}"#,
                    lwa_token("Atza", n, token_chars())
                )
            } else {
                r#"{"error":"invalid_grant","error_description":"bad refresh token"}"#.to_owned()
            };
        let status = if body.contains("invalid_grant") {
            "400 Bad Request"
        } else {
            "200 OK"
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// A vendor-like refresh grant (what `auth_amazon_sp::RefreshGrant` does).

#[derive(serde::Deserialize)]
struct Wire {
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    token_type: String,
    expires_in: i64,
}

/// The app's client: shared by every seller's grant.
#[derive(Debug)]
struct App {
    http: TokenHttpClient,
    token_url: Url,
    client_secret: String,
}

#[derive(Debug)]
struct RefreshGrant {
    app: Arc<App>,
}

#[auth_core::async_trait]
impl TokenSource for RefreshGrant {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let refresh_token = previous
            .and_then(Token::refresh_token)
            .ok_or_else(|| AuthError::InvalidConfig("no refresh token".into()))?;
        let app = &self.app;
        let request = TokenRequest::post(app.token_url.clone())
            .form([
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
                ("client_id", CLIENT_ID),
                ("client_secret", app.client_secret.as_str()),
            ])
            .redact(&app.client_secret)
            .redact(refresh_token.expose_secret());
        let parse = |raw: &RawResponse<'_>| {
            if !raw.status.is_success() {
                return Err(raw.standard_error());
            }
            let wire: Wire = raw.json()?;
            let token = Token::new(
                wire.access_token,
                Some(raw.sent_at + chrono::Duration::seconds(wire.expires_in)),
            )
            .with_token_type(wire.token_type)
            .with_issued_at(raw.sent_at);
            Ok(token.with_refresh_token_opt(wire.refresh_token))
        };
        let token = app.http.execute(&request, parse).await?;
        Ok(match token.refresh_token() {
            Some(_) => token,
            None => token.with_refresh_token(refresh_token.clone()),
        })
    }
}

/// Tasks onboarding subjects at once (the client lets 8 requests fly at a time).
const ONBOARDING_TASKS: u64 = 16;

/// The seller with number `i`, and its refresh token (what the app's database holds).
fn seller(i: u64) -> String {
    format!("A{i:013}")
}

fn refresh_token_of(seller: &str) -> RefreshToken {
    let n = seller[1..].parse::<u64>().unwrap_or(0);
    RefreshToken::new(lwa_token("Atzr", n, token_chars()))
}

fn cache(capacity: usize, app: &Arc<App>, store: &Arc<dyn TokenStore>) -> TokenCache<String> {
    let (app, store) = (Arc::clone(app), Arc::clone(store));
    TokenCache::new(capacity, move |seller: &String| {
        Ok(CachedTokenProvider::builder(RefreshGrant {
            app: Arc::clone(&app),
        })
        .store(
            Arc::clone(&store),
            StoreKey::new("amazon-sp", "production", CLIENT_ID, seller.as_str()),
        )
        .seed_refresh_token(refresh_token_of(seller))
        .build())
    })
}

// ---------------------------------------------------------------------------------------
// Measuring.

/// `token()` for each of `keys`, one call at a time from a task on the runtime: the
/// nanoseconds of each call, and the token requests the endpoint saw meanwhile.
fn time_each_call(
    runtime: &tokio::runtime::Runtime,
    tokens: &Arc<TokenCache<String>>,
    requests: &Arc<AtomicU64>,
    keys: Vec<String>,
) -> (Vec<u64>, u64) {
    let (tokens, requests) = (Arc::clone(tokens), Arc::clone(requests));
    runtime.block_on(async move {
        tokio::spawn(async move {
            let before = requests.load(Ordering::Relaxed);
            let mut samples = Vec::with_capacity(keys.len());
            for key in &keys {
                let start = Instant::now();
                tokens.token(key.as_str()).await.unwrap();
                samples.push(start.elapsed().as_nanos() as u64);
            }
            (samples, requests.load(Ordering::Relaxed) - before)
        })
        .await
        .unwrap()
    })
}

/// Polls a future once: a cached token is ready at once.
fn now<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the hot path must not wait"),
    }
}

/// xorshift64: the random subjects, cheap and the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

const ORDER: usize = 1 << 20;

/// Random indices below `n`, one list per task.
fn order(n: usize) -> Arc<Vec<u32>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    Arc::new((0..ORDER).map(|_| rng.next(n as u64) as u32).collect())
}

/// CPU nanoseconds per call of `op(task, i)` run by `tasks` tasks of `iters` calls each
/// on the runtime's `workers` workers: the batch's wall time times the workers in use,
/// over the calls. Each task runs its loop without yielding (a cached `token()` is ready
/// at once), so the workers are busy the whole time.
fn per_call(
    runtime: &tokio::runtime::Runtime,
    workers: usize,
    tasks: usize,
    iters: usize,
    op: Arc<dyn Fn(usize, usize) + Send + Sync>,
) -> f64 {
    let start = Instant::now();
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let op = Arc::clone(&op);
                tokio::spawn(async move {
                    for i in 0..iters {
                        op(t, i);
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let busy = start.elapsed().as_nanos() as f64 * tasks.min(workers) as f64;
    busy / (tasks * iters) as f64
}

/// The median and the 99th percentile of `samples` (nanoseconds).
fn median_p99(mut samples: Vec<u64>) -> (f64, f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize] as f64;
    (at(0.5), at(0.99), *samples.last().unwrap() as f64)
}

/// Per subject and lifetime: the refresh histogram's peak second, % of subjects.
///
/// Every subject is onboarded at `t0`. Each refresh is where the provider puts it: a
/// provider is built on a `ManualClock` at the token's issue time with the subject's
/// spread key (the FNV-1a hash of its store key, as `builder.store()` sets it) and the
/// token as seed; `status().next_refresh_at` is its refresh. The next token is issued
/// there, and so on for four lifetimes.
fn refresh_peak(n: u64, lifetime_s: i64) -> (f64, u64) {
    let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let horizon = t0 + chrono::Duration::seconds(4 * lifetime_s);
    let mut per_second: HashMap<i64, u64> = HashMap::new();
    let mut minted = 0u64;
    for i in 0..n {
        let key = StoreKey::new("amazon-sp", "production", CLIENT_ID, seller(i));
        let spread = fnv1a(key.to_string().as_bytes());
        let mut issued = t0;
        loop {
            minted += 1;
            let token = Token::new(
                AccessToken::new(lwa_token("Atza", minted, 64)),
                Some(issued + chrono::Duration::seconds(lifetime_s)),
            )
            .with_issued_at(issued);
            let provider = CachedTokenProvider::builder(StaticSource::new(token.clone()))
                .clock(Arc::new(ManualClock::new(issued)))
                .spread_key(spread)
                .seed(token)
                .build();
            let at = provider.status().next_refresh_at.expect("a refresh time");
            if at >= horizon {
                break;
            }
            *per_second.entry(at.timestamp()).or_default() += 1;
            issued = at;
        }
    }
    let peak = per_second.values().copied().max().unwrap_or(0);
    (peak as f64 * 100.0 / n as f64, peak)
}

/// 64-bit FNV-1a, as `CachedTokenProviderBuilder::store` hashes the store key.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[derive(Debug, Default, serde::Serialize)]
struct Row {
    subjects: u64,
    cached: u64,
    token_chars: usize,
    bytes_per_subject: f64,
    provider_bytes: f64,
    store_bytes: f64,
    blocks_per_subject: f64,
    single_1: f64,
    single_8: f64,
    hit_1: f64,
    hit_8: f64,
    hashmap_1: f64,
    quick_cache_1: f64,
    hashmap_8: f64,
    store_miss_median_us: f64,
    store_miss_p99_us: f64,
    store_miss_requests: u64,
    cold_miss_median_us: f64,
    cold_miss_p99_us: f64,
    cold_miss_requests_each: f64,
    cached_during_misses_median_ns: f64,
    cached_during_misses_p99_ns: f64,
    cached_during_misses_max_us: f64,
    cached_idle_p99_ns: f64,
    cached_idle_max_us: f64,
    misses_per_second: f64,
    refresh_peak_60s: f64,
    refresh_peak_120s: f64,
    refresh_peak_300s: f64,
    refresh_peak_600s: f64,
    refresh_peak_3600s: f64,
}

const WORKERS: usize = 2;

fn main() {
    let sizes: Vec<u64> = std::env::var("MANY_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (token_url, requests) = runtime.block_on(token_endpoint());
    let app = Arc::new(App {
        http: TokenHttpClient::builder("auth-bench/0").build().unwrap(),
        token_url,
        client_secret: "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef0123456789abcdef".into(),
    });

    // One provider, no map: the hot path's own cost.
    let single = Arc::new(
        CachedTokenProvider::builder(RefreshGrant {
            app: Arc::clone(&app),
        })
        .seed_refresh_token(refresh_token_of(&seller(u64::MAX >> 12)))
        .build(),
    );
    runtime.block_on(single.token()).unwrap();
    let single_op: Arc<dyn Fn(usize, usize) + Send + Sync> = {
        let single = Arc::clone(&single);
        Arc::new(move |_, _| drop(black_box(now(single.token()).unwrap())))
    };
    let chars = token_chars();
    println!("token sizes: access {chars} chars, refresh {chars} chars");
    println!(
        "| subjects | memory/subject (provider + store) | token() 1 task / 8 tasks | x single | floor HashMap / quick_cache | store miss median / p99 | cold miss median / p99 | cached call p99 / max during misses (idle) | refresh peak second 60 s / 120 s / 300 s / 600 s / 3600 s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");

    for &n in &sizes {
        let mut row = Row {
            subjects: n,
            token_chars: chars,
            ..Row::default()
        };
        let keys: Vec<String> = (0..n).map(seller).collect();
        // Warm the HTTP connection pool and the runtime before counting, with as many
        // tasks as the count below: the pool then holds the connections that many
        // requests in flight open (one each, with its buffers), which are the client's,
        // not any subject's (they were 0.4-0.5 KiB a subject at 1,000).
        runtime.block_on(async {
            let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
            let warm = Arc::new(cache(64, &app, &store));
            let tasks: Vec<_> = (0..ONBOARDING_TASKS)
                .map(|t| {
                    let warm = Arc::clone(&warm);
                    tokio::spawn(async move {
                        for i in 0..64 {
                            let key = seller(1_000_000_000_000 + t * 64 + i);
                            warm.token(key.as_str()).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });

        // Memory: everything the cache and the store hold for `n` subjects, each onboarded
        // with a token request (8 at a time: the client's cap on requests in flight).
        let (bytes_before, blocks_before) = live();
        let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
        let tokens = Arc::new(cache(n as usize, &app, &store));
        runtime.block_on(async {
            let next = Arc::new(AtomicU64::new(0));
            let tasks: Vec<_> = (0..ONBOARDING_TASKS)
                .map(|_| {
                    let (tokens, next) = (Arc::clone(&tokens), Arc::clone(&next));
                    tokio::spawn(async move {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                break;
                            }
                            tokens.token(seller(i).as_str()).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let (bytes_after, blocks_after) = live();
        row.bytes_per_subject = (bytes_after - bytes_before) as f64 / n as f64;
        row.blocks_per_subject = (blocks_after - blocks_before) as f64 / n as f64;

        let cached: Arc<Vec<String>> = Arc::new(
            keys.iter()
                .filter(|k| tokens.contains(k.as_str()))
                .cloned()
                .collect(),
        );
        row.cached = cached.len() as u64;

        // Random cached subjects, looked up by `&str`, and the floors.
        let order = order(cached.len());
        let lookup =
            |f: Arc<dyn Fn(&str) + Send + Sync>| -> Arc<dyn Fn(usize, usize) + Send + Sync> {
                let (cached, order) = (Arc::clone(&cached), Arc::clone(&order));
                Arc::new(move |t: usize, i: usize| {
                    f(cached[order[(i + t * 7919) & (ORDER - 1)] as usize].as_str());
                })
            };
        let hit = {
            let tokens = Arc::clone(&tokens);
            lookup(Arc::new(move |k| {
                drop(black_box(now(tokens.token(k)).unwrap()))
            }))
        };
        // The same measurement of one provider, interleaved: the machine drifts.
        row.single_1 = per_call(&runtime, WORKERS, 1, 2_000_000, Arc::clone(&single_op));
        row.single_8 = per_call(&runtime, WORKERS, 8, 500_000, Arc::clone(&single_op));
        row.hit_1 = per_call(&runtime, WORKERS, 1, 2_000_000, Arc::clone(&hit));
        row.hit_8 = per_call(&runtime, WORKERS, 8, 500_000, hit);
        {
            let map: Arc<HashMap<String, Arc<u64>>> = Arc::new(
                cached
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), Arc::new(i as u64)))
                    .collect(),
            );
            let op = lookup(Arc::new(move |k| {
                drop(black_box(Arc::clone(map.get(k).unwrap())))
            }));
            row.hashmap_1 = per_call(&runtime, WORKERS, 1, 2_000_000, Arc::clone(&op));
            row.hashmap_8 = per_call(&runtime, WORKERS, 8, 500_000, op);
            let qc: Arc<quick_cache::sync::Cache<String, Arc<u64>>> =
                Arc::new(quick_cache::sync::Cache::new(cached.len()));
            for (i, k) in cached.iter().enumerate() {
                qc.insert(k.clone(), Arc::new(i as u64));
            }
            let op = lookup(Arc::new(move |k| {
                drop(black_box(qc.get(k)));
            }));
            row.quick_cache_1 = per_call(&runtime, WORKERS, 1, 2_000_000, op);
        }

        // Misses at full capacity, one call at a time from a task. Cold: new subjects, one
        // token request each. Store: subjects evicted by those, back from the store.
        let misses = 2_000u64.min(n);
        let new_subjects: Vec<String> = (n..n + misses).map(seller).collect();
        let (cold, cold_requests) = time_each_call(&runtime, &tokens, &requests, new_subjects);
        let (median, p99, _) = median_p99(cold);
        (row.cold_miss_median_us, row.cold_miss_p99_us) = (median / 1e3, p99 / 1e3);
        row.cold_miss_requests_each = cold_requests as f64 / misses as f64;
        let evicted: Vec<String> = keys
            .iter()
            .filter(|k| !tokens.contains(k.as_str()))
            .take(misses as usize)
            .cloned()
            .collect();
        assert!(!evicted.is_empty(), "nothing was evicted");
        let (stored, store_requests) = time_each_call(&runtime, &tokens, &requests, evicted);
        let (median, p99, _) = median_p99(stored);
        (row.store_miss_median_us, row.store_miss_p99_us) = (median / 1e3, p99 / 1e3);
        row.store_miss_requests = store_requests;

        // A cached call's latency on one thread while another misses without pause
        // (store misses, on a runtime of its own, so that the two threads are all).
        let hot = cached[0].clone();
        runtime.block_on(tokens.token(hot.as_str())).unwrap();
        let _held = tokens.provider(hot.as_str()).unwrap();
        let sample = || -> Vec<u64> {
            (0..300_000)
                .map(|_| {
                    let start = Instant::now();
                    drop(black_box(now(tokens.token(hot.as_str())).unwrap()));
                    start.elapsed().as_nanos() as u64
                })
                .collect()
        };
        // The same calls with no miss going on: what the machine alone adds (preemption).
        let (_, p99, max) = median_p99(sample());
        row.cached_idle_p99_ns = p99;
        row.cached_idle_max_us = max / 1e3;
        let stop = Arc::new(AtomicBool::new(false));
        let misser = {
            let (tokens, stop) = (Arc::clone(&tokens), Arc::clone(&stop));
            let keys = keys.clone();
            std::thread::spawn(move || {
                let local = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                local.block_on(async {
                    let mut done = 0u64;
                    'outer: loop {
                        for key in &keys {
                            if stop.load(Ordering::Relaxed) {
                                break 'outer;
                            }
                            if !tokens.contains(key.as_str()) {
                                tokens.token(key.as_str()).await.unwrap();
                                done += 1;
                            }
                        }
                    }
                    done
                })
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        let samples = sample();
        let window = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let missed = misser.join().unwrap();
        row.misses_per_second = missed as f64 / (window + Duration::from_millis(20)).as_secs_f64();
        let (median, p99, max) = median_p99(samples);
        row.cached_during_misses_median_ns = median;
        row.cached_during_misses_p99_ns = p99;
        row.cached_during_misses_max_us = max / 1e3;
        assert!(missed > 0, "no miss happened meanwhile");

        (row.refresh_peak_60s, _) = refresh_peak(n, 60);
        (row.refresh_peak_120s, _) = refresh_peak(n, 120);
        (row.refresh_peak_300s, _) = refresh_peak(n, 300);
        (row.refresh_peak_600s, _) = refresh_peak(n, 600);
        (row.refresh_peak_3600s, _) = refresh_peak(n, 3600);

        // What the providers (and the cache) and the store hold: freed when dropped.
        let providers = tokens.len() as f64 + 1.0;
        drop(_held);
        let (before_drop, _) = live();
        drop(tokens);
        let (without_cache, _) = live();
        drop(store);
        let (without_store, _) = live();
        row.provider_bytes = (before_drop - without_cache) as f64 / providers;
        row.store_bytes = (without_cache - without_store) as f64 / (n + misses) as f64;

        println!(
            "| {n} ({} cached) | {:.2} KiB ({:.2} + {:.2} KiB) | {:.1} / {:.1} ns | {:.1}x / {:.1}x (single: {:.1} / {:.1} ns) | {:.1} / {:.1} ns | {:.1} / {:.1} µs ({} requests) | {:.1} / {:.1} µs ({:.2} requests each) | {:.2} / {:.0} µs ({:.2} / {:.0} µs) | {:.2}% / {:.2}% / {:.2}% / {:.2}% / {:.2}% |",
            row.cached,
            row.bytes_per_subject / 1024.0,
            row.provider_bytes / 1024.0,
            row.store_bytes / 1024.0,
            row.hit_1,
            row.hit_8,
            row.hit_1 / row.single_1,
            row.hit_8 / row.single_8,
            row.single_1,
            row.single_8,
            row.hashmap_1,
            row.quick_cache_1,
            row.store_miss_median_us,
            row.store_miss_p99_us,
            row.store_miss_requests,
            row.cold_miss_median_us,
            row.cold_miss_p99_us,
            row.cold_miss_requests_each,
            row.cached_during_misses_p99_ns / 1e3,
            row.cached_during_misses_max_us,
            row.cached_idle_p99_ns / 1e3,
            row.cached_idle_max_us,
            row.refresh_peak_60s,
            row.refresh_peak_120s,
            row.refresh_peak_300s,
            row.refresh_peak_600s,
            row.refresh_peak_3600s,
        );
        println!("@many {}", serde_json::to_string(&row).unwrap());
    }
}
