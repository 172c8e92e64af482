//! `TokenCache` with many subjects: memory per subject, `token()` for a random subject
//! at 1 and 8 threads against a single provider, a miss at full capacity, and a cached
//! call's latency while another thread misses.
//!
//! Run with `cargo bench -p auth-core --bench many` (a table on stdout; `MANY_SIZES`
//! overrides the sizes, e.g. `MANY_SIZES=1000,10000`). Each subject's provider has a
//! store record (one shared `MemoryStore`), as `SellerTokens` builds them.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use auth_core::{
    AccessToken, CachedTokenProvider, MemoryStore, StaticSource, StoreKey, Token, TokenCache,
    TokenStore,
};
use chrono::Utc;

fn fresh_token(name: &str) -> Token {
    let now = Utc::now();
    Token::new(
        AccessToken::new(name),
        Some(now + chrono::Duration::hours(1)),
    )
    .with_issued_at(now)
}

fn seller(i: u64) -> String {
    format!("A{i:013}")
}

fn cache(capacity: usize, store: Arc<dyn TokenStore>) -> TokenCache<String> {
    TokenCache::new(capacity, move |seller: &String| {
        Ok(
            CachedTokenProvider::builder(StaticSource::new(fresh_token(&format!(
                "Atza|token-of-{seller}"
            ))))
            .store(
                Arc::clone(&store),
                StoreKey::new(
                    "amazon-sp",
                    "production",
                    "amzn1.application-oa2-client.x",
                    seller,
                ),
            )
            .build(),
        )
    })
}

/// Polls a future once: a cached token is ready at once, no runtime needed.
fn now<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the hot path must not wait"),
    }
}

/// Resident memory of this process, bytes (Linux; 0 elsewhere).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
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

/// Nanoseconds per call of `op(thread, i)` with `threads` threads, `iters` calls each.
fn per_call(threads: usize, iters: usize, op: Arc<dyn Fn(usize, usize) + Send + Sync>) -> f64 {
    let barrier = Arc::new(std::sync::Barrier::new(threads + 1));
    let runtime = tokio::runtime::Handle::current();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (op, barrier, runtime) = (Arc::clone(&op), Arc::clone(&barrier), runtime.clone());
            std::thread::spawn(move || {
                let _runtime = runtime.enter();
                barrier.wait();
                let start = Instant::now();
                for i in 0..iters {
                    op(t, i);
                }
                start.elapsed()
            })
        })
        .collect();
    barrier.wait();
    let total: Duration = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total.as_nanos() as f64 / (threads * iters) as f64
}

fn main() {
    let sizes: Vec<u64> = std::env::var("MANY_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let _guard = runtime.enter();

    // The floor: one provider, no map.
    let single = Arc::new(CachedTokenProvider::new(StaticSource::new(fresh_token(
        "t",
    ))));
    runtime.block_on(single.token()).unwrap();
    let single_1 = {
        let single = Arc::clone(&single);
        per_call(
            1,
            2_000_000,
            Arc::new(move |_, _| drop(black_box(now(single.token()).unwrap()))),
        )
    };
    let single_8 = {
        let single = Arc::clone(&single);
        per_call(
            8,
            500_000,
            Arc::new(move |_, _| drop(black_box(now(single.token()).unwrap()))),
        )
    };
    println!(
        "single provider: token() {single_1:.0} ns at 1 thread, {single_8:.0} ns at 8 threads"
    );
    println!(
        "| subjects | memory/subject | token() 1 thread | 8 threads | x single (1 / 8) | miss at capacity (provider / token) | cached call p99 / max during misses |"
    );
    println!("|---|---|---|---|---|---|---|");

    for &n in &sizes {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
        let before = rss();
        let tokens = Arc::new(cache(n as usize, Arc::clone(&store)));
        let keys: Vec<String> = (0..n).map(seller).collect();
        runtime.block_on(async {
            for key in keys.iter() {
                tokens.token(key.as_str()).await.unwrap();
            }
        });
        // quick_cache bounds each shard: a few keys may have been evicted already.
        let keys: Arc<Vec<String>> = Arc::new(
            keys.into_iter()
                .filter(|k| tokens.contains(k.as_str()))
                .collect(),
        );
        let n_cached = keys.len() as u64;
        // The keys' own strings (the application's) are not the cache's.
        let key_bytes: u64 = keys.iter().map(|k| k.capacity() as u64 + 24).sum();
        let per_subject =
            (rss().saturating_sub(before)).saturating_sub(key_bytes) as f64 / n as f64;

        // Random cached subjects, looked up by &str.
        let order: Arc<Vec<u32>> = {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            Arc::new((0..1 << 20).map(|_| rng.next(n_cached) as u32).collect())
        };
        let hit = {
            let (tokens, keys, order) =
                (Arc::clone(&tokens), Arc::clone(&keys), Arc::clone(&order));
            Arc::new(move |t: usize, i: usize| {
                let key = &keys[order[(i + t * 7919) & ((1 << 20) - 1)] as usize];
                drop(black_box(now(tokens.token(key.as_str())).unwrap()));
            })
        };
        let hit_1 = per_call(1, 2_000_000, hit.clone());
        let hit_8 = per_call(8, 500_000, hit);

        // Misses at full capacity: new subjects, each evicting one.
        let misses = 20_000u64;
        let start = Instant::now();
        for i in 0..misses {
            black_box(tokens.provider(&seller(n + i)).unwrap());
        }
        let miss_provider = start.elapsed().as_secs_f64() * 1e6 / misses as f64;
        let start = Instant::now();
        runtime.block_on(async {
            for i in 0..misses {
                tokens.token(&seller(2 * n + misses + i)).await.unwrap();
            }
        });
        let miss_token = start.elapsed().as_secs_f64() * 1e6 / misses as f64;

        // A cached call's latency while another thread misses all the time.
        let hot = seller(5 * n);
        runtime.block_on(tokens.token(&hot)).unwrap();
        // Held, as an application's task would: evicted, it is taken back warm.
        let _held = tokens.provider(&hot).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let misser = {
            let (tokens, stop) = (Arc::clone(&tokens), Arc::clone(&stop));
            let runtime = runtime.handle().clone();
            std::thread::spawn(move || {
                let _runtime = runtime.enter();
                let mut i = 6 * n;
                while !stop.load(Ordering::Relaxed) {
                    black_box(tokens.provider(&seller(i)).unwrap());
                    i += 1;
                }
            })
        };
        let mut samples: Vec<u64> = (0..200_000)
            .map(|_| {
                let start = Instant::now();
                drop(black_box(now(tokens.token(hot.as_str())).unwrap()));
                start.elapsed().as_nanos() as u64
            })
            .collect();
        stop.store(true, Ordering::Relaxed);
        misser.join().unwrap();
        samples.sort_unstable();
        let p99 = samples[samples.len() * 99 / 100];
        let max = *samples.last().unwrap();

        println!(
            "| {n} ({n_cached} cached) | {:.2} KiB | {hit_1:.0} ns | {hit_8:.0} ns | {:.1}x / {:.1}x | {miss_provider:.1} µs / {miss_token:.1} µs | {:.1} µs / {:.0} µs |",
            per_subject / 1024.0,
            hit_1 / single_1,
            hit_8 / single_8,
            p99 as f64 / 1000.0,
            max as f64 / 1000.0,
        );
        drop(tokens);
    }
}
