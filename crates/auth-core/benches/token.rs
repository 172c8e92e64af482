//! The cached-token hot path against its floor: `ArcSwap::load_full` of an `Arc<Token>`.
//!
//! Run with `cargo xtask bench` (prints a table) or `cargo bench -p auth-core --bench token`.

use std::future::Future as _;
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use auth_core::{AccessToken, CachedTokenProvider, StaticSource, Token};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

fn fresh_token() -> Token {
    Token::new(
        AccessToken::new("benchmark-token"),
        Some(Utc::now() + chrono::Duration::hours(1)),
    )
}

fn warmed_provider() -> CachedTokenProvider {
    let provider = CachedTokenProvider::new(StaticSource::new(fresh_token()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(provider.token()).expect("first token");
    provider
}

/// Polls `token()` once: on a fresh cache it is ready at once, no runtime needed.
fn token_now(provider: &CachedTokenProvider) -> Arc<Token> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(provider.token());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(token) => token.expect("cached token"),
        Poll::Pending => panic!("the hot path must not wait"),
    }
}

/// Time per call with `threads` threads calling `op` concurrently, `iters` times each.
fn concurrent(threads: usize, iters: u64, op: Arc<dyn Fn() + Send + Sync>) -> Duration {
    let barrier = Arc::new(std::sync::Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let op = Arc::clone(&op);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                for _ in 0..iters {
                    op();
                }
                start.elapsed()
            })
        })
        .collect();
    barrier.wait();
    let total: Duration = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    total / threads as u32
}

fn hot_path(c: &mut Criterion) {
    let floor = Arc::new(ArcSwap::from_pointee(fresh_token()));
    let provider = Arc::new(warmed_provider());

    let mut group = c.benchmark_group("hot_path_1_thread");
    group.bench_function("arcswap_load_full", |b| {
        b.iter(|| black_box(floor.load_full()))
    });
    group.bench_function("provider_token", |b| {
        b.iter(|| black_box(token_now(&provider)))
    });
    group.bench_function("coarse_clock", |b| {
        b.iter(|| black_box(auth_core::Clock::monotonic(&auth_core::SystemClock)))
    });
    group.bench_function("std_instant", |b| b.iter(|| black_box(Instant::now())));
    group.bench_function("provider_cached", |b| {
        b.iter(|| black_box(provider.cached()))
    });
    group.finish();

    let mut group = c.benchmark_group("hot_path_2_threads");
    group.bench_function("arcswap_load_full", |b| {
        let floor = Arc::clone(&floor);
        b.iter_custom(move |iters| {
            let floor = Arc::clone(&floor);
            concurrent(
                2,
                iters,
                Arc::new(move || {
                    black_box(floor.load_full());
                }),
            )
        })
    });
    group.bench_function("coarse_clock", |b| {
        b.iter_custom(|iters| {
            concurrent(
                2,
                iters,
                Arc::new(|| {
                    black_box(auth_core::Clock::monotonic(&auth_core::SystemClock));
                }),
            )
        })
    });
    group.bench_function("provider_cached", |b| {
        let provider = Arc::clone(&provider);
        b.iter_custom(move |iters| {
            let provider = Arc::clone(&provider);
            concurrent(
                2,
                iters,
                Arc::new(move || {
                    black_box(provider.cached());
                }),
            )
        })
    });
    group.bench_function("provider_token", |b| {
        let provider = Arc::clone(&provider);
        b.iter_custom(move |iters| {
            let provider = Arc::clone(&provider);
            concurrent(
                2,
                iters,
                Arc::new(move || {
                    black_box(token_now(&provider));
                }),
            )
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = hot_path
}
criterion_main!(benches);
