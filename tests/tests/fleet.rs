//! The fleet test: 8 OS processes share one Easyship seller's token through one store
//! key, against the Easyship emulator with 2-second access tokens.
//!
//! Each process is `fleet-worker` (`tests/bin/fleet_worker.rs`): one
//! `CachedTokenProvider` (Easyship's refresh grant, single-use refresh tokens) on the
//! shared store, and 16 tasks that call `token()` in a loop for 20 s, each time followed
//! by one call to the emulator's API probe with the token handed out. The emulator runs
//! in this test's process and acts like Easyship's Doorkeeper: every refresh spends the
//! refresh token presented and revokes the previous access token.
//!
//! Four runs, one after another: a steady run and a chaos run, over `RedisStore` and
//! over `FileStore`. What they prove:
//!
//! - **steady**: no `invalid_grant` anywhere (the emulator's token errors and every
//!   worker's errors are zero): the processes never present the same single-use refresh
//!   token twice; the whole fleet makes one token request per refresh interval, not one
//!   per process (asserted: at most [`expected_token_requests`] plus
//!   [`TOKEN_REQUEST_SLACK`]); no token is handed out expired (by the worker's clock when
//!   `token()` returns, and by the API probe's verdict). API calls made with a token
//!   another process's refresh had already revoked are counted and reported, bounded by
//!   [`max_revoked_api_call_share`] per store.
//! - **chaos**: every [`KILL_EVERY`] the harness SIGKILLs the process that holds the
//!   store's lease in the middle of a refresh, and starts a replacement. The worker
//!   announces each fetch under the lease (`FETCHING <pid>`) and waits for the harness's
//!   `go` before sending it, so the kill lands between taking the lease and sending the
//!   request, every time, without a timing race. The others take over once the lease
//!   lapses (Redis: its TTL, [`LEASE_TTL`]; `FileStore`: at once, the OS drops the dead
//!   process's lock). Asserted: no `invalid_grant`, the chain is intact (the one refresh
//!   token the emulator still accepts is the one in the store), and the longest any
//!   caller waited in `token()` is under [`stall_bound`] (lease TTL, lease probe and
//!   [`STALL_SLACK`]).
//!
//! Every run prints a table of each process's figures (calls, `token()` latency p50,
//! p99 and max, the probe's verdicts) and the emulator's counts. The runs take the
//! shared machine's CPU, so they are serialised within this binary.
//!
//! # Running it locally
//!
//! ```text
//! redis-server --port 6391 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
//! REDIS_URL=redis://127.0.0.1:6391/ cargo test -p workspace-tests --test fleet -- --nocapture
//! redis-cli -p 6391 shutdown nosave
//! ```
//!
//! `FLEET_RUN_SECS` sets each run's length (default 20). Without `REDIS_URL` the Redis
//! runs are skipped with a note, unless `CI` is set: then they fail.

use std::collections::BTreeMap;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use auth_core::emulator::Rejection;
use auth_core::{AccessToken, FileStore, StoreKey, Token, TokenStore, VendorClient};
use auth_easyship::emulator::Emulator;
use auth_store_redis::RedisStore;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Worker processes at any time.
const PROCESSES: usize = 8;
/// Tasks calling `token()` in each process.
const TASKS: usize = 16;
/// The emulator's access-token lifetime.
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(2);
/// Each run's length, unless `FLEET_RUN_SECS` says otherwise.
const DEFAULT_RUN: Duration = Duration::from_secs(20);
/// The store lease's TTL in every worker (renewed every third of it while a refresh
/// runs): short, so that a killed holder's lease lapses soon.
const LEASE_TTL: Duration = Duration::from_secs(1);
/// How often, at most, the chaos runs kill the lease holder.
const KILL_EVERY: Duration = Duration::from_secs(3);
/// The seller whose token the fleet shares.
const SELLER: &str = "seller-1";

/// Token requests allowed above [`expected_token_requests`]: see there.
const TOKEN_REQUEST_SLACK: u64 = 3;
/// Whether the provider's per-key spread keeps one refresh per period from token to
/// token (see [`expected_token_requests`]): it does since the grid uses the lifetime
/// rounded up to whole seconds.
const SPREAD_PERIOD_HOLDS: bool = true;
/// The largest share of API calls made with an already-revoked access token over a
/// steady run (all processes), per store. Easyship's grant says its refresh revokes the
/// previous access token, so the provider holds its token back from the moment the
/// refresh request goes out:
///
/// - `RedisStore`: the lease holder announces the refresh on the change channel 30 ms
///   before sending it, and every process holds its token back until the save's
///   message. What could remain are calls that got the token just before the
///   announcement and reached the emulator after the refresh (a task descheduled
///   between `token()` and its probe on this loaded 2-core machine): measured none in
///   steady and chaos runs on a quiet machine, 0.023% (38 calls) with another build
///   running (0.1% with a 10 ms lead, 0.5% with none; 2-6% before the hold, with
///   notifications alone). The bound, 0.2%, allows such races on a loaded CI machine
///   and still fails ten times below the figure without the hold.
/// - `FileStore`: no announcements; a process whose due refresh finds the lease held by
///   another holds its token back itself (the holder is almost certainly refreshing the
///   same record), until it adopts the saved token. What remains are calls that got the
///   token before their process's first lease attempt: measured 0.07-0.5% (3.6-8.2%
///   when only the lease holder held back). The bound, 2%.
fn max_revoked_api_call_share(backend: &Backend) -> f64 {
    match backend {
        Backend::Redis { .. } => 0.002,
        Backend::File(_) => 0.02,
    }
}
/// Added to the lease arithmetic in [`stall_bound`]: a loaded 2-core machine running 8
/// worker processes and the emulator.
const STALL_SLACK: Duration = Duration::from_millis(1500);

/// The runs share the machine's two cores: one at a time.
/// (tokio's mutex: the guard is held across the run's awaits, and it does not poison,
/// so a failed run lets the next one go.)
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn run_length() -> Duration {
    std::env::var("FLEET_RUN_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(DEFAULT_RUN, Duration::from_secs_f64)
}

/// The provider's refresh arithmetic for a token of `lifetime`, from its policy
/// (`crates/auth-core/src/provider/state.rs`, `Policy`): the base window is 10% of the
/// lifetime (the default `refresh_before`, 5 min, is more), `min_valid` is at most half
/// of it (the default, 30 s, is more), and a store key gives a spread key, with which a
/// token is refreshed at the one point of a grid of period `lifetime - 1.5 × window`
/// (its phase fixed by the key) that lies in `[issued + window / 2, expiry - window]`.
/// Returns `(window, period)`.
fn refresh_arithmetic(lifetime: Duration) -> (Duration, Duration) {
    let window = lifetime / 10;
    (window, lifetime - window.mul_f64(1.5))
}

/// The token requests a run of `run` may make: the first one (the store holds only the
/// seeded refresh token), then one per refresh interval.
///
/// - Easyship's `created_at` is whole seconds and may only make the expiry earlier, so
///   the lifetime the provider sees is between `ACCESS_TOKEN_LIFETIME - 1 s` and
///   `ACCESS_TOKEN_LIFETIME`: the bound takes the shortest.
/// - By design ([`SPREAD_PERIOD_HOLDS`]) the next token's grid point is one period
///   later.
fn expected_token_requests(run: Duration) -> u64 {
    let shortest_lifetime = ACCESS_TOKEN_LIFETIME - Duration::from_secs(1);
    let (window, period) = refresh_arithmetic(shortest_lifetime);
    let interval = if SPREAD_PERIOD_HOLDS {
        period
    } else {
        window / 2 + period / 2
    };
    1 + (run.as_secs_f64() / interval.as_secs_f64()).ceil() as u64
}

/// The longest a caller may wait in `token()` in a chaos run over `backend`: the killed
/// holder's lease lapses after its TTL (Redis) or at once (`FileStore`: the OS drops a
/// dead process's lock), a waiting process notices within one lease probe (250 ms in
/// the provider), then refreshes.
fn stall_bound(backend: &Backend) -> Duration {
    let lapse = match backend {
        Backend::Redis { .. } => LEASE_TTL,
        Backend::File(_) => Duration::ZERO,
    };
    lapse + Duration::from_millis(250) + STALL_SLACK
}

/// Where the fleet keeps its token.
#[derive(Debug, Clone)]
enum Backend {
    Redis { url: String, prefix: String },
    File(std::path::PathBuf),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Self::Redis { .. } => "RedisStore",
            Self::File(_) => "FileStore",
        }
    }

    async fn open(&self) -> Arc<dyn TokenStore> {
        match self {
            Self::Redis { url, prefix } => Arc::new(
                RedisStore::builder(url.as_str())
                    .key_prefix(prefix)
                    .connect()
                    .await
                    .expect("Redis at REDIS_URL"),
            ),
            Self::File(dir) => Arc::new(FileStore::new(dir)),
        }
    }

    fn worker_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Redis { url, prefix } => vec![
                ("FLEET_STORE", url.clone()),
                ("FLEET_REDIS_PREFIX", prefix.clone()),
            ],
            Self::File(dir) => vec![("FLEET_STORE", format!("file:{}", dir.display()))],
        }
    }
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A Redis backend with a prefix of its own, or `None` (the run is skipped) without
/// `REDIS_URL`; a panic in CI, as in auth-store-redis's conformance tests.
async fn redis_backend(run: &str) -> Option<Backend> {
    let url = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if in_ci() => {
            panic!("REDIS_URL is not set and CI is: the Redis fleet runs must run in CI")
        }
        _ => {
            eprintln!("note: REDIS_URL is not set; skipping the Redis fleet run");
            return None;
        }
    };
    if let Err(e) = RedisStore::builder(url.as_str()).connect().await {
        if in_ci() {
            panic!("REDIS_URL cannot be reached and CI is set: {e}");
        }
        eprintln!("note: REDIS_URL cannot be reached ({e}); skipping the Redis fleet run");
        return None;
    }
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).unwrap();
    let prefix = format!("fleet-test:{:016x}:{run}:", u64::from_le_bytes(bytes));
    Some(Backend::Redis { url, prefix })
}

/// What a worker's standard output says, or that it closed.
enum Event {
    Line(usize, String),
    Closed(usize),
}

/// The running workers. Dropping it (a failed assertion) kills every one still running.
struct Fleet {
    children: Vec<Option<Child>>,
    stdins: Vec<Option<ChildStdin>>,
    events: mpsc::UnboundedSender<Event>,
    env: Vec<(&'static str, String)>,
}

impl Fleet {
    fn new(env: Vec<(&'static str, String)>) -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (events, rx) = mpsc::unbounded_channel();
        let fleet = Self {
            children: Vec::new(),
            stdins: Vec::new(),
            events,
            env,
        };
        (fleet, rx)
    }

    /// Starts a worker that runs for `run`; returns its index.
    fn spawn(&mut self, run: Duration) -> usize {
        let index = self.children.len();
        let mut child = Command::new(env!("CARGO_BIN_EXE_fleet-worker"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("FLEET_RUN_MS", run.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start fleet-worker");
        let stdout = child.stdout.take().expect("piped stdout");
        self.stdins.push(child.stdin.take());
        self.children.push(Some(child));
        let events = self.events.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = events.send(Event::Line(index, line));
            }
            let _ = events.send(Event::Closed(index));
        });
        index
    }

    /// Lets worker `index` send the refresh it announced.
    async fn go(&mut self, index: usize) {
        if let Some(stdin) = self.stdins[index].as_mut() {
            // A worker that died meanwhile shows up as `Closed`.
            let _ = stdin.write_all(b"go\n").await;
            let _ = stdin.flush().await;
        }
    }

    /// SIGKILLs worker `index` and waits for it.
    async fn kill(&mut self, index: usize) {
        let mut child = self.children[index].take().expect("a running worker");
        child.kill().await.expect("SIGKILL a worker");
        self.stdins[index] = None;
    }

    /// Waits for worker `index` to exit (its stdout has closed); `None` if it was killed.
    async fn wait(&mut self, index: usize) -> Option<ExitStatus> {
        let mut child = self.children[index].take()?;
        self.stdins[index] = None;
        Some(child.wait().await.expect("wait for a worker"))
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.start_kill();
        }
    }
}

/// One worker's figures, from its `FIGURES` line.
#[derive(Debug)]
struct Figures {
    pid: u64,
    calls: u64,
    errors: BTreeMap<String, u64>,
    expired_at_handout: u64,
    probe: BTreeMap<String, u64>,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
}

impl Figures {
    fn parse(json: &str) -> Self {
        let v: serde_json::Value = serde_json::from_str(json).expect("a FIGURES line");
        let map = |v: &serde_json::Value| {
            v.as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let n = |name: &str| v[name].as_u64().expect(name);
        Self {
            pid: n("pid"),
            calls: n("calls"),
            errors: map(&v["errors"]),
            expired_at_handout: n("expired_at_handout"),
            probe: map(&v["probe"]),
            p50_us: n("p50_us"),
            p99_us: n("p99_us"),
            max_us: n("max_us"),
        }
    }

    fn probe(&self, verdict: &str) -> u64 {
        self.probe.get(verdict).copied().unwrap_or(0)
    }

    fn errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// What a run saw, for the assertions.
struct Outcome {
    workers: Vec<Figures>,
    kills: usize,
    token_requests: u64,
    token_errors: u64,
    api_calls: u64,
    rejected: BTreeMap<&'static str, u64>,
    /// The store's refresh token and the ones the emulator still accepts.
    stored_refresh_token: Option<String>,
    live_refresh_tokens: Vec<String>,
    elapsed: Duration,
}

impl Outcome {
    fn sum(&self, f: impl Fn(&Figures) -> u64) -> u64 {
        self.workers.iter().map(f).sum()
    }

    fn worker_errors(&self) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for w in &self.workers {
            for (kind, n) in &w.errors {
                *all.entry(kind.clone()).or_default() += n;
            }
        }
        all
    }

    fn revoked_share(&self) -> f64 {
        self.rejected["revoked"] as f64 / self.api_calls.max(1) as f64
    }

    fn max_stall(&self) -> Duration {
        Duration::from_micros(self.workers.iter().map(|w| w.max_us).max().unwrap_or(0))
    }

    fn print(&self, backend: &Backend, chaos: bool) {
        println!();
        println!(
            "== fleet: {}, {}",
            backend.name(),
            if chaos { "chaos" } else { "steady" }
        );
        println!(
            "   {PROCESSES} processes x {TASKS} tasks, {:.1} s, {} s access tokens, lease TTL {} ms, {} lease holders killed",
            self.elapsed.as_secs_f64(),
            ACCESS_TOKEN_LIFETIME.as_secs(),
            LEASE_TTL.as_millis(),
            self.kills
        );
        println!(
            "   {:>8} {:>9} {:>6} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8}",
            "pid",
            "token()",
            "errors",
            "p50 us",
            "p99 us",
            "max ms",
            "probe ok",
            "revoked",
            "expired",
            "unknown"
        );
        let row = |name: String,
                   calls,
                   errors,
                   p50,
                   p99,
                   max_us: u64,
                   ok,
                   revoked,
                   expired,
                   unknown| {
            println!(
                "   {name:>8} {calls:>9} {errors:>6} {p50:>8} {p99:>8} {:>9.1} {ok:>9} {revoked:>8} {expired:>8} {unknown:>8}",
                max_us as f64 / 1000.0
            );
        };
        for w in &self.workers {
            row(
                w.pid.to_string(),
                w.calls,
                w.errors(),
                w.p50_us,
                w.p99_us,
                w.max_us,
                w.probe("ok"),
                w.probe("revoked"),
                w.probe("expired"),
                w.probe("unknown"),
            );
        }
        row(
            "all".into(),
            self.sum(|w| w.calls),
            self.sum(Figures::errors),
            self.workers.iter().map(|w| w.p50_us).max().unwrap_or(0),
            self.workers.iter().map(|w| w.p99_us).max().unwrap_or(0),
            self.max_stall().as_micros() as u64,
            self.sum(|w| w.probe("ok")),
            self.sum(|w| w.probe("revoked")),
            self.sum(|w| w.probe("expired")),
            self.sum(|w| w.probe("unknown")),
        );
        println!(
            "   (\"all\": sums; p50 and p99 are the worst process's; figures of killed processes are lost)"
        );
        let (_, design_period) = refresh_arithmetic(ACCESS_TOKEN_LIFETIME);
        println!(
            "   emulator: {} token requests (bound {} + {TOKEN_REQUEST_SLACK}; one per {:.2} s, the design's period is {:.2} s), {} token errors",
            self.token_requests,
            expected_token_requests(self.elapsed),
            self.elapsed.as_secs_f64() / self.token_requests.max(1) as f64,
            design_period.as_secs_f64(),
            self.token_errors,
        );
        println!(
            "   emulator: {} API calls, {} ({:.3}%) with an already-revoked token{}; refused: {:?}",
            self.api_calls,
            self.rejected["revoked"],
            100.0 * self.revoked_share(),
            if chaos {
                String::new()
            } else {
                format!(
                    " (bound {:.3}%)",
                    100.0 * max_revoked_api_call_share(backend)
                )
            },
            self.rejected
        );
        println!(
            "   worker errors: {:?}; tokens handed out expired (worker clock): {}; longest token() wait {:.1} ms{}",
            self.worker_errors(),
            self.sum(|w| w.expired_at_handout),
            self.max_stall().as_secs_f64() * 1000.0,
            if chaos {
                format!(" (bound {} ms)", stall_bound(backend).as_millis())
            } else {
                String::new()
            }
        );
        println!(
            "   chain: stored refresh token {} the emulator's live one ({} live)",
            if self.stored_refresh_token.is_some()
                && self.live_refresh_tokens.first() == self.stored_refresh_token.as_ref()
            {
                "is"
            } else {
                "is NOT"
            },
            self.live_refresh_tokens.len()
        );
    }
}

/// Runs the fleet over `backend` for `run_length()`, killing the lease holder every
/// `KILL_EVERY` if `chaos`.
async fn run_fleet(backend: &Backend, chaos: bool) -> Outcome {
    let emulator = Emulator::builder()
        .access_token_lifetime(ACCESS_TOKEN_LIFETIME)
        .start()
        .await;
    let client = emulator.client_builder().build().unwrap();
    let key = client.store_key(SELLER);
    let store = backend.open().await;
    seed(
        store.as_ref(),
        &key,
        emulator.issue_refresh_token(SELLER, Some("public.shipment:write")),
    )
    .await;

    let mut env = backend.worker_env();
    env.extend([
        ("FLEET_BASE_URL", emulator.url().to_string()),
        ("FLEET_CLIENT_ID", emulator.client_id()),
        ("FLEET_CLIENT_SECRET", emulator.client_secret()),
        ("FLEET_SELLER", SELLER.to_owned()),
        ("FLEET_TASKS", TASKS.to_string()),
        ("FLEET_LEASE_TTL_MS", LEASE_TTL.as_millis().to_string()),
    ]);
    if chaos {
        env.push(("FLEET_HOLD_FETCH", "1".to_owned()));
    }
    let (mut fleet, mut events) = Fleet::new(env);
    let run = run_length();
    let started = Instant::now();
    let end = started + run;
    let mut running = 0;
    for _ in 0..PROCESSES {
        fleet.spawn(run);
        running += 1;
    }

    let mut workers = Vec::new();
    let mut kills = 0;
    let mut next_kill = started + KILL_EVERY;
    // A hung worker fails the run instead of hanging the test.
    let deadline = end + Duration::from_secs(30);
    while running > 0 {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the fleet ran 30 s over its time")
            .expect("the event channel stays open");
        match event {
            Event::Line(index, line) if line.starts_with("FETCHING ") => {
                let now = Instant::now();
                // Kill only with time left for a replacement to do something.
                if chaos && now >= next_kill && now + Duration::from_secs(1) < end {
                    fleet.kill(index).await;
                    running -= 1;
                    kills += 1;
                    next_kill = now + KILL_EVERY;
                    fleet.spawn(end - now);
                    running += 1;
                } else {
                    fleet.go(index).await;
                }
            }
            Event::Line(_, line) if line.starts_with("FIGURES ") => {
                workers.push(Figures::parse(&line["FIGURES ".len()..]));
            }
            Event::Line(index, line) => panic!("worker {index} said {line:?}"),
            Event::Closed(index) => {
                // `None`: killed, and already counted.
                if let Some(status) = fleet.wait(index).await {
                    assert!(status.success(), "worker {index} failed: {status}");
                    running -= 1;
                }
            }
        }
    }
    let elapsed = started.elapsed();

    let counts = emulator.counts();
    let rejected = [
        Rejection::Revoked,
        Rejection::Expired,
        Rejection::Unknown,
        Rejection::Missing,
    ]
    .into_iter()
    .map(|why| (why.as_str(), counts.api_rejected_as(why)))
    .collect();
    let record = store.load(&key).await.unwrap().expect("a stored token");
    Outcome {
        workers,
        kills,
        token_requests: counts.grant("refresh_token"),
        token_errors: counts.token_errors(),
        api_calls: counts.api(),
        rejected,
        stored_refresh_token: record
            .token
            .refresh_token()
            .map(|r| r.expose_secret().to_owned()),
        live_refresh_tokens: emulator.live_refresh_tokens(SELLER),
        elapsed,
    }
}

/// Puts the seller's refresh token in the store, as the app's authorization step would:
/// the workers find it there (a stored token wins over any seed).
async fn seed(store: &dyn TokenStore, key: &StoreKey, refresh_token: String) {
    let lease = store
        .lease(key, Duration::from_secs(10), Duration::ZERO)
        .await
        .unwrap();
    // No access token yet: the first `token()` refreshes.
    let token = Token::new(
        AccessToken::new(String::new()),
        Some(chrono::DateTime::UNIX_EPOCH),
    )
    .with_refresh_token(auth_core::RefreshToken::new(refresh_token));
    store.save(&lease, &token).await.unwrap();
    store.release(lease).await.unwrap();
}

fn assert_chain_intact(outcome: &Outcome) {
    assert_eq!(
        outcome.token_errors, 0,
        "the emulator refused token requests"
    );
    assert!(
        !outcome.worker_errors().contains_key("invalid_grant"),
        "invalid_grant in a worker: {:?}",
        outcome.worker_errors()
    );
    assert_eq!(
        outcome.live_refresh_tokens.len(),
        1,
        "one live refresh token"
    );
    assert_eq!(
        outcome.live_refresh_tokens.first(),
        outcome.stored_refresh_token.as_ref(),
        "the store holds the emulator's live refresh token"
    );
}

fn assert_steady(outcome: &Outcome, backend: &Backend) {
    assert_chain_intact(outcome);
    assert_eq!(outcome.worker_errors(), BTreeMap::new(), "worker errors");
    assert_eq!(outcome.workers.len(), PROCESSES, "every worker reported");
    let bound = expected_token_requests(outcome.elapsed) + TOKEN_REQUEST_SLACK;
    assert!(
        outcome.token_requests <= bound,
        "{} token requests, more than {bound}",
        outcome.token_requests
    );
    assert_eq!(
        outcome.sum(|w| w.expired_at_handout),
        0,
        "expired tokens handed out"
    );
    assert_eq!(outcome.rejected["expired"], 0, "the API saw expired tokens");
    assert_eq!(outcome.rejected["unknown"], 0, "the API saw unknown tokens");
    assert!(
        outcome.revoked_share() <= max_revoked_api_call_share(backend),
        "{} of {} API calls with a revoked token",
        outcome.rejected["revoked"],
        outcome.api_calls
    );
}

fn assert_chaos(outcome: &Outcome, backend: &Backend) {
    assert_chain_intact(outcome);
    assert!(outcome.kills >= 1, "no lease holder was killed");
    assert_eq!(
        outcome.sum(|w| w.expired_at_handout),
        0,
        "expired tokens handed out"
    );
    assert!(
        outcome.max_stall() <= stall_bound(backend),
        "a caller waited {:?} in token(), more than {:?}",
        outcome.max_stall(),
        stall_bound(backend)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_fleet_shares_one_refresh_chain_without_invalid_grant() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let Some(backend) = redis_backend("steady").await else {
        return;
    };
    let outcome = run_fleet(&backend, false).await;
    outcome.print(&backend, false);
    assert_steady(&outcome, &backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_fleet_survives_the_lease_holder_killed_mid_refresh() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let Some(backend) = redis_backend("chaos").await else {
        return;
    };
    let outcome = run_fleet(&backend, true).await;
    outcome.print(&backend, true);
    assert_chaos(&outcome, &backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_fleet_shares_one_refresh_chain_without_invalid_grant() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::File(dir.path().to_owned());
    let outcome = run_fleet(&backend, false).await;
    outcome.print(&backend, false);
    assert_steady(&outcome, &backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_fleet_survives_the_lease_holder_killed_mid_refresh() {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::File(dir.path().to_owned());
    let outcome = run_fleet(&backend, true).await;
    outcome.print(&backend, true);
    assert_chaos(&outcome, &backend);
}
