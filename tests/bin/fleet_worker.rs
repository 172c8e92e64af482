//! One process of the fleet test (`tests/tests/fleet.rs`): an Easyship refresh provider
//! on a shared store, and many tasks calling `token()` and the API with it in a loop.
//!
//! Not a tool: the fleet test starts it, configured by environment variables (below),
//! and reads its standard output:
//!
//! - `FETCHING <pid>` (only with `FLEET_HOLD_FETCH=1`): this process holds the store's
//!   lease and is about to send a refresh request. It then waits for a line on standard
//!   input before sending anything, so the harness can SIGKILL it in the middle of a
//!   refresh, at a point where nothing was sent yet, without a race against a timer.
//! - `FIGURES {json}` at the end: this process's figures.
//!
//! Environment: `FLEET_BASE_URL` (the emulator), `FLEET_CLIENT_ID`,
//! `FLEET_CLIENT_SECRET`, `FLEET_SELLER`, `FLEET_STORE` (`redis://…` or `file:DIR`),
//! `FLEET_REDIS_PREFIX`, `FLEET_RUN_MS`, `FLEET_TASKS`, `FLEET_LEASE_TTL_MS`,
//! `FLEET_HOLD_FETCH`.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::{AuthError, CachedTokenProvider, FileStore, Token, TokenSource, TokenStore};
use auth_easyship::{Client, RefreshGrant, VendorClient};
use auth_store_redis::RedisStore;
use tokio::io::AsyncBufReadExt as _;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn number(name: &str) -> u64 {
    var(name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

/// Writes one line to standard output at once (the harness reads lines).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Easyship's refresh grant, announcing each fetch and holding it until the harness says
/// `go` on standard input (or kills the process). The provider calls the source only
/// under the store's lease, so the announcing process is the lease holder.
#[derive(Debug)]
struct HeldFetch {
    inner: RefreshGrant,
    go: tokio::sync::Mutex<tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>>,
}

#[auth_core::async_trait]
impl TokenSource for HeldFetch {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        {
            let mut go = self.go.lock().await;
            say(&format!("FETCHING {}", std::process::id()));
            match go.next_line().await {
                Ok(Some(_)) => {}
                // The harness is gone: do not spend the refresh token.
                _ => std::process::exit(3),
            }
        }
        self.inner.fetch_token(previous).await
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }

    fn rotates_refresh_token(&self) -> bool {
        self.inner.rotates_refresh_token()
    }

    fn revokes_previous_access_token(&self) -> bool {
        self.inner.revokes_previous_access_token()
    }
}

/// What one task saw.
#[derive(Default)]
struct Tally {
    calls: u64,
    /// `token()` latencies, nanoseconds.
    latencies: Vec<u64>,
    /// Errors of `token()` by kind.
    errors: std::collections::BTreeMap<String, u64>,
    /// Tokens handed out at or past their expiry by this process's clock.
    expired_at_handout: u64,
    /// The probe's answers: ok, revoked, expired, unknown, other.
    probe: std::collections::BTreeMap<&'static str, u64>,
}

fn error_kind(error: &AuthError) -> String {
    if error.is_invalid_grant() {
        return "invalid_grant".into();
    }
    match error {
        AuthError::Store { .. } => "store".into(),
        AuthError::OutcomeUnknown { .. } => "outcome_unknown".into(),
        AuthError::Timeout { .. } => "timeout".into(),
        _ => format!("other: {error}"),
    }
}

/// The probe's verdict on `token`: what the emulator's Easyship API answered.
async fn probe(client: &Client, url: &str, token: &Token) -> &'static str {
    let answer = client
        .http_client()
        .get(url)
        .bearer_auth(token.access_token().expose_secret())
        .send()
        .await;
    let Ok(answer) = answer else {
        return "transport";
    };
    if answer.status().is_success() {
        return "ok";
    }
    let body = answer.text().await.unwrap_or_default();
    // The emulator's Easyship answers (crates/auth-easyship/src/emulator.rs).
    if body.contains("was revoked") {
        "revoked"
    } else if body.contains("expired") {
        "expired"
    } else if body.contains("invalid") {
        "unknown"
    } else {
        "other"
    }
}

async fn run_task(
    provider: CachedTokenProvider,
    client: Client,
    probe_url: String,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let started = Instant::now();
        let result = provider.token().await;
        tally
            .latencies
            .push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        tally.calls += 1;
        match result {
            Ok(token) => {
                if token
                    .expires_at()
                    .is_some_and(|at| at <= chrono::Utc::now())
                {
                    tally.expired_at_handout += 1;
                }
                *tally
                    .probe
                    .entry(probe(&client, &probe_url, &token).await)
                    .or_default() += 1;
            }
            Err(error) => {
                *tally.errors.entry(error_kind(&error)).or_default() += 1;
                // A failing provider answers at once: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let client = Client::builder()
        .client_id(var("FLEET_CLIENT_ID"))
        .client_secret(var("FLEET_CLIENT_SECRET"))
        .base_url(var("FLEET_BASE_URL").as_str())
        .build()
        .expect("the emulator's client");
    let key = client.store_key(&var("FLEET_SELLER"));
    let store_spec = var("FLEET_STORE");
    let store: Arc<dyn TokenStore> = if let Some(dir) = store_spec.strip_prefix("file:") {
        Arc::new(FileStore::new(dir))
    } else {
        Arc::new(
            RedisStore::builder(store_spec.as_str())
                .key_prefix(var("FLEET_REDIS_PREFIX"))
                .connect()
                .await
                .expect("Redis at FLEET_STORE"),
        )
    };
    let grant = RefreshGrant::new(client.clone());
    let builder = if std::env::var_os("FLEET_HOLD_FETCH").is_some() {
        client.provider_builder(HeldFetch {
            inner: grant,
            go: tokio::sync::Mutex::new(tokio::io::BufReader::new(tokio::io::stdin()).lines()),
        })
    } else {
        client.provider_builder(grant)
    };
    let provider = builder
        .store(store, key)
        .lease(
            Duration::from_millis(number("FLEET_LEASE_TTL_MS")),
            auth_core::DEFAULT_LEASE_WAIT,
        )
        .build();

    let probe_url = format!("{}emulator/probe", var("FLEET_BASE_URL"));
    let until = Instant::now() + Duration::from_millis(number("FLEET_RUN_MS"));
    let tasks: Vec<_> = (0..number("FLEET_TASKS"))
        .map(|_| {
            tokio::spawn(run_task(
                provider.clone(),
                client.clone(),
                probe_url.clone(),
                until,
            ))
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await.expect("a task panicked");
        all.calls += tally.calls;
        all.latencies.extend(tally.latencies);
        all.expired_at_handout += tally.expired_at_handout;
        for (kind, n) in tally.errors {
            *all.errors.entry(kind).or_default() += n;
        }
        for (kind, n) in tally.probe {
            *all.probe.entry(kind).or_default() += n;
        }
    }
    // A background refresh may be running: exiting now would drop it with the runtime,
    // possibly after the emulator rotated the refresh token and before the store saved
    // the new one.
    if let Err(error) = provider.settle().await {
        say(&format!("settle failed: {error}"));
    }
    all.latencies.sort_unstable();
    let figures = serde_json::json!({
        "pid": std::process::id(),
        "calls": all.calls,
        "errors": all.errors,
        "expired_at_handout": all.expired_at_handout,
        "probe": all.probe,
        "p50_us": percentile(&all.latencies, 0.50) / 1000,
        "p99_us": percentile(&all.latencies, 0.99) / 1000,
        "max_us": all.latencies.last().copied().unwrap_or(0) / 1000,
    });
    say(&format!("FIGURES {figures}"));
}
