//! CachedTokenProvider behaviour: single flight, refresh windows, failures, stores.
//!
//! Time is a `ManualClock`; the grant is an in-process source held by a semaphore, so
//! every test controls exactly when a fetch starts and ends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, Clock, FileStore, Lease, ManualClock, MemoryStore,
    OAuthErrorCode, RefreshToken, StoreKey, Token, TokenRecord, TokenSource, TokenStore,
};
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

const HOUR: Duration = Duration::from_secs(3600);

fn start() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

type Scripted = Result<Option<Duration>, AuthError>;

/// A grant whose fetches are counted, optionally gated, and scripted.
#[derive(Debug)]
struct TestSource {
    clock: Arc<ManualClock>,
    calls: AtomicUsize,
    gate: Option<Semaphore>,
    script: Mutex<VecDeque<Scripted>>,
    seen_refresh_tokens: Mutex<Vec<Option<String>>>,
    needs_refresh_token: bool,
    /// What `rotates_refresh_token` answers (Easyship: true; Amazon: false).
    rotates: AtomicBool,
    /// What `revokes_previous_access_token` answers (Easyship: true).
    revokes: AtomicBool,
}

impl TestSource {
    fn new(clock: &Arc<ManualClock>) -> Arc<Self> {
        Arc::new(Self::build(clock, false))
    }

    fn gated(clock: &Arc<ManualClock>) -> Arc<Self> {
        Arc::new(Self::build(clock, true))
    }

    fn build(clock: &Arc<ManualClock>, gated: bool) -> Self {
        Self {
            clock: Arc::clone(clock),
            calls: AtomicUsize::new(0),
            gate: gated.then(|| Semaphore::new(0)),
            script: Mutex::new(VecDeque::new()),
            seen_refresh_tokens: Mutex::new(Vec::new()),
            needs_refresh_token: false,
            rotates: AtomicBool::new(false),
            revokes: AtomicBool::new(false),
        }
    }

    fn push(&self, outcome: Scripted) {
        self.script.lock().unwrap().push_back(outcome);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn release(&self, n: usize) {
        self.gate.as_ref().unwrap().add_permits(n);
    }
}

#[async_trait]
impl TokenSource for TestSource {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if self.needs_refresh_token && previous.and_then(|p| p.refresh_token()).is_none() {
            // What every refresh grant does: nothing is sent.
            return Err(AuthError::NoRefreshToken);
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen_refresh_tokens.lock().unwrap().push(
            previous
                .and_then(|p| p.refresh_token())
                .map(|r| r.expose_secret().to_owned()),
        );
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        let scripted = self.script.lock().unwrap().pop_front();
        let lifetime = match scripted {
            Some(Err(error)) => return Err(error),
            Some(Ok(lifetime)) => lifetime,
            None => Some(HOUR),
        };
        let now = self.clock.now();
        Ok(Token::new(
            AccessToken::new(format!("at-{n}")),
            lifetime.map(|l| now + chrono::Duration::from_std(l).unwrap()),
        )
        .with_issued_at(now)
        .with_refresh_token(RefreshToken::new(format!("rt-{n}"))))
    }

    fn needs_refresh_token(&self) -> bool {
        self.needs_refresh_token
    }

    fn rotates_refresh_token(&self) -> bool {
        self.rotates.load(Ordering::SeqCst)
    }

    fn revokes_previous_access_token(&self) -> bool {
        self.revokes.load(Ordering::SeqCst)
    }
}

fn provider(source: &Arc<TestSource>) -> CachedTokenProvider {
    CachedTokenProvider::builder(Arc::clone(source))
        .clock(source.clock.clone())
        .jitter(0.0)
        .build()
}

fn at(token: &Token) -> &str {
    token.access_token().expose_secret()
}

async fn until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("timed out waiting for: {what}");
}

fn server_error() -> AuthError {
    AuthError::Http {
        vendor: "",
        status: 503,
        excerpt: "down".into(),
        retry_after: None,
    }
}

fn invalid_grant() -> AuthError {
    AuthError::oauth(
        OAuthErrorCode::InvalidGrant,
        Some("spent".into()),
        Some(400),
    )
}

async fn thousand_callers_one_fetch(
    provider: &CachedTokenProvider,
    source: &Arc<TestSource>,
    expect: &str,
) {
    let before = source.calls();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.token().await })
        })
        .collect();
    until("the fetch to start", || source.calls() > before).await;
    // Let every caller reach the wait before the fetch ends.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    source.release(1);
    for task in tasks {
        assert_eq!(at(&task.await.unwrap().unwrap()), expect);
    }
    assert_eq!(source.calls(), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_on_empty_cache_cause_one_fetch() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    thousand_callers_one_fetch(&provider, &source, "at-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_on_expired_cache_cause_one_fetch() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    clock.advance(HOUR + Duration::from_secs(1));
    thousand_callers_one_fetch(&provider, &source, "at-2").await;
}

#[tokio::test]
async fn dropped_first_caller_neither_cancels_nor_restarts_the_fetch() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    let first = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the fetch to start", || source.calls() == 1).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    source.release(1);
    // The spawned refresh finishes and publishes on its own.
    until("the token to be published", || provider.cached().is_some()).await;
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(source.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_callers_of_a_failing_source_share_one_attempt_and_its_error() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    source.push(Err(server_error()));
    let provider = provider(&source);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.token().await })
        })
        .collect();
    until("the fetch to start", || source.calls() == 1).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    source.release(1);
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert_eq!(err.status(), Some(503));
    }
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn refresh_window_refreshes_in_background_without_blocking_callers() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");

    // 1 h lifetime: the window is min(5 min, 6 min) = 5 min before expiry.
    clock.advance(Duration::from_secs(54 * 60));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(source.calls(), 1, "no refresh before the window");

    clock.advance(Duration::from_secs(2 * 60)); // 4 min left: inside the window
    // The source is held, yet callers get the current token at once.
    for _ in 0..10 {
        assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    }
    until("the background refresh to start", || source.calls() == 2).await;
    assert!(provider.status().refreshing);
    source.release(1);
    until("the new token", || {
        provider.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn min_valid_makes_callers_wait_for_the_refresh() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = provider(&source);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    // 20 s left: under the 30 s min_valid, so the old token is not handed out.
    clock.advance(HOUR - Duration::from_secs(20));
    assert!(provider.cached().is_none());
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
}

#[tokio::test]
async fn failed_background_refresh_keeps_serving_the_valid_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = provider(&source);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    source.push(Err(server_error()));
    clock.advance(Duration::from_secs(57 * 60));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    until("the refresh to fail", || {
        provider.status().last_error.is_some()
    })
    .await;
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(
        provider.status().expires_at,
        Some(start() + chrono::Duration::hours(1))
    );
    assert_eq!(
        source.calls(),
        2,
        "the negative cache holds back another attempt"
    );
}

#[tokio::test]
async fn failure_is_remembered_for_the_backoff_then_retried() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Err(server_error()));
    let provider = provider(&source);
    assert!(provider.token().await.is_err());
    for _ in 0..5 {
        assert_eq!(provider.token().await.unwrap_err().status(), Some(503));
    }
    assert_eq!(source.calls(), 1);
    clock.advance(Duration::from_secs(5));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(source.calls(), 2);
    assert!(provider.status().last_error.is_none());
}

#[tokio::test]
async fn invalid_grant_sticks_until_force_refresh() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Err(invalid_grant()));
    let provider = provider(&source);
    assert!(provider.token().await.unwrap_err().is_invalid_grant());
    clock.advance(Duration::from_secs(3600));
    assert!(provider.token().await.unwrap_err().is_invalid_grant());
    assert_eq!(source.calls(), 1);
    assert!(provider.status().reauthorization_required);
    assert_eq!(at(&provider.force_refresh().await.unwrap()), "at-2");
    assert!(!provider.status().reauthorization_required);
}

#[tokio::test]
async fn new_token_clears_invalid_grant() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Err(invalid_grant()));
    let provider = provider(&source);
    assert!(provider.token().await.is_err());
    let reauthorized = Token::new(
        AccessToken::new("new-grant"),
        Some(clock.now() + chrono::Duration::hours(1)),
    );
    provider.replace_token(reauthorized).await.unwrap();
    assert_eq!(at(&provider.token().await.unwrap()), "new-grant");
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn invalidate_token_only_drops_the_current_one() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = provider(&source);
    let first = provider.token().await.unwrap();
    let stale = Token::new(AccessToken::new("not-current"), None);
    assert!(!provider.invalidate_token(&stale));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert!(provider.invalidate_token(&first));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    // The same (now old) token again changes nothing.
    assert!(!provider.invalidate_token(&first));
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn refresh_uses_the_previous_refresh_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .seed_refresh_token(RefreshToken::new("seed-rt"))
        .build();
    provider.token().await.unwrap();
    clock.advance(HOUR);
    provider.token().await.unwrap();
    let seen = source.seen_refresh_tokens.lock().unwrap().clone();
    assert_eq!(seen, [Some("seed-rt".to_owned()), Some("rt-1".to_owned())]);
}

#[tokio::test]
async fn missing_refresh_token_is_reported_as_reauthorization() {
    let clock = Arc::new(ManualClock::new(start()));
    let mut source = TestSource::build(&clock, false);
    source.needs_refresh_token = true;
    let source = Arc::new(source);
    let provider = provider(&source);
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err}");
    assert!(
        !err.is_invalid_grant(),
        "not what users read as a revoked grant"
    );
    assert!(err.to_string().contains("seed"), "it names the fix: {err}");
    assert_eq!(source.calls(), 0, "nothing is sent without a refresh token");
    assert!(provider.status().reauthorization_required);
}

#[tokio::test]
async fn token_without_expiry_is_never_refreshed() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Ok(None));
    let provider = provider(&source);
    provider.token().await.unwrap();
    clock.advance(Duration::from_secs(10 * 365 * 24 * 3600));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(source.calls(), 1);
}

// ---------------------------------------------------------------------------------------
// Stores.

fn key() -> StoreKey {
    StoreKey::new("test", "sandbox", "client-1", "seller-1")
}

/// A store whose saves can be made to fail or to block, and that records what the
/// provider published at the moment of each save.
#[derive(Debug)]
struct ControlledStore {
    inner: MemoryStore,
    fail_saves: AtomicBool,
    save_gate: Option<Semaphore>,
    saves: AtomicUsize,
}

impl ControlledStore {
    fn new(gated: bool) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStore::new(),
            fail_saves: AtomicBool::new(false),
            save_gate: gated.then(|| Semaphore::new(0)),
            saves: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl TokenStore for ControlledStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        self.inner.load(key).await
    }
    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        self.inner.lease(key, ttl, wait).await
    }
    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.save_gate {
            gate.acquire().await.unwrap().forget();
        }
        if self.fail_saves.load(Ordering::SeqCst) {
            return Err(AuthError::Store {
                message: "disk full".into(),
                source: None,
            });
        }
        self.inner.save(lease, token).await
    }
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        self.inner.renew(lease, ttl).await
    }
    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        self.inner.mark_refresh_token_dead(lease, version).await
    }
    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        self.inner.release(lease).await
    }
}

fn stored_provider(source: &Arc<TestSource>, store: Arc<dyn TokenStore>) -> CachedTokenProvider {
    CachedTokenProvider::builder(Arc::clone(source))
        .clock(source.clock.clone())
        .jitter(0.0)
        .store(store, key())
        .build()
}

async fn stored_access_token(store: &dyn TokenStore) -> Option<String> {
    store
        .load(&key())
        .await
        .unwrap()
        .map(|r| at(&r.token).to_owned())
}

#[tokio::test]
async fn rotation_is_saved_before_it_is_published() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = ControlledStore::new(true);
    let provider = stored_provider(&source, store.clone());
    let caller = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the save to start", || {
        store.saves.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(source.calls(), 1);
    // Fetched but not yet saved: not visible to anyone.
    assert!(provider.cached().is_none());
    assert!(!caller.is_finished());
    store.save_gate.as_ref().unwrap().add_permits(1);
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-1");
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("at-1"));
    assert!(provider.cached().is_some());
}

/// A `MemoryStore` keeps the provider's own `Arc<Token>`, and a provider adopting the
/// record holds that same `Token`: one copy per key, however many hold it (issue 16).
#[tokio::test]
async fn a_memory_store_and_its_providers_share_one_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let a = stored_provider(&source, Arc::clone(&store));
    let b = stored_provider(&source, Arc::clone(&store));
    let fetched = a.token().await.unwrap();
    let record = store.load(&key()).await.unwrap().unwrap();
    assert!(
        Arc::ptr_eq(&record.token, &fetched),
        "the store keeps A's Arc"
    );
    let adopted = b.token().await.unwrap();
    assert!(Arc::ptr_eq(&adopted, &fetched), "B holds the stored Arc");
    assert_eq!(source.calls(), 1);
}

/// A store whose notifier the test drives: it keeps the listeners itself (the inner
/// `MemoryStore` notifies nobody) and can "reconnect" (call every listener with `None`).
#[derive(Debug, Default)]
struct ResyncingStore {
    inner: MemoryStore,
    listeners: Mutex<Vec<std::sync::Weak<dyn auth_core::StoreListener>>>,
}

impl ResyncingStore {
    fn reconnected(&self) {
        self.tell(None);
    }

    fn tell(&self, version: Option<u64>) {
        for listener in self.listeners.lock().unwrap().iter() {
            if let Some(listener) = listener.upgrade() {
                listener.record_changed(version);
            }
        }
    }

    /// Another process saves `access` (its notification is sent only by `tell`).
    async fn save_elsewhere(&self, access: &str, clock: &ManualClock) -> u64 {
        let lease = self
            .inner
            .lease(&key(), HOUR, Duration::ZERO)
            .await
            .unwrap();
        let token = Token::new(
            AccessToken::new(access),
            Some(clock.now() + chrono::Duration::hours(1)),
        )
        .with_issued_at(clock.now());
        let record = self.inner.save(&lease, &token).await.unwrap();
        self.inner.release(lease).await.unwrap();
        record.version
    }
}

#[async_trait]
impl TokenStore for ResyncingStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        self.inner.load(key).await
    }
    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        self.inner.lease(key, ttl, wait).await
    }
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        self.inner.renew(lease, ttl).await
    }
    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        self.inner.save(lease, token).await
    }
    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        self.inner.mark_refresh_token_dead(lease, version).await
    }
    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        self.inner.release(lease).await
    }
    fn watch(
        &self,
        _key: &StoreKey,
        listener: std::sync::Weak<dyn auth_core::StoreListener>,
    ) -> bool {
        self.listeners.lock().unwrap().push(listener);
        true
    }
}

/// After a notifier reconnects, each provider re-reads its record after a delay fixed by
/// its spread key (up to 1 s), so a process's providers do not all hit the store at once;
/// then it adopts what it missed.
#[tokio::test(start_paused = true)]
async fn a_resync_rereads_the_record_after_a_delay_fixed_by_the_key() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(ResyncingStore::default());
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .store(store.clone(), key())
        .spread_key(512) // half of the resync spread: 500 ms
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    // Another process saved a new token; the notification was lost with the connection.
    let lease = store
        .inner
        .lease(&key(), HOUR, Duration::ZERO)
        .await
        .unwrap();
    let other = Token::new(
        AccessToken::new("at-other"),
        Some(clock.now() + chrono::Duration::hours(1)),
    )
    .with_issued_at(clock.now());
    store.inner.save(&lease, &other).await.unwrap();
    store.inner.release(lease).await.unwrap();

    store.reconnected();
    // Let the re-read task start its wait.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    tokio::time::advance(Duration::from_millis(400)).await;
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        at(&provider.cached().unwrap()),
        "at-1",
        "not before its delay"
    );
    tokio::time::advance(Duration::from_millis(200)).await;
    until("the resync", || {
        provider.cached().is_some_and(|t| at(&t) == "at-other")
    })
    .await;
    assert_eq!(source.calls(), 1);
}

/// A save notified while a resync waits out its spread is adopted at once, not after it.
#[tokio::test(start_paused = true)]
async fn a_save_notified_during_a_resync_delay_is_adopted_at_once() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(ResyncingStore::default());
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .store(store.clone(), key())
        .spread_key(1023) // a resync waits almost 1 s
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    store.reconnected();
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let version = store.save_elsewhere("at-saved", &clock).await;
    store.tell(Some(version));
    until("the save adopted", || {
        provider.cached().is_some_and(|t| at(&t) == "at-saved")
    })
    .await;
    assert_eq!(source.calls(), 1);
}

/// `settle` (before exiting) waits for a background refresh and its save: a runtime shut
/// down under it would lose a rotated refresh token.
#[tokio::test]
async fn settle_waits_for_a_running_background_refresh_and_its_save() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let provider = stored_provider(&source, Arc::clone(&store));
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    provider.settle().await.unwrap(); // nothing running: returns at once

    // Five minutes before expiry: in the refresh window, still handed out.
    clock.advance(HOUR - Duration::from_secs(300));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    until("the background fetch", || source.calls() == 2).await;
    let settling = tokio::spawn({
        let provider = provider.clone();
        async move { provider.settle().await }
    });
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        !settling.is_finished(),
        "settle returned during the refresh"
    );
    source.release(1);
    settling.await.unwrap().unwrap();
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("at-2"));
    assert!(!provider.status().refreshing);
}

#[tokio::test]
async fn failed_save_keeps_the_new_token_and_saves_it_later() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = ControlledStore::new(false);
    store.fail_saves.store(true, Ordering::SeqCst);
    let provider = stored_provider(&source, store.clone());

    // The rotated token is handed out even though the store refused it...
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert!(provider.status().unsaved);
    assert_eq!(stored_access_token(&*store).await, None);
    // ...and kept, not fetched again.
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(source.calls(), 1);

    // Once the store works again, a later call saves it (after the retry backoff).
    store.fail_saves.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(6));
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    until("the save to succeed", || !provider.status().unsaved).await;
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("at-1"));
    assert_eq!(source.calls(), 1);
    assert!(provider.cached().is_some(), "published once saved");
}

#[tokio::test]
async fn flush_saves_an_unsaved_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = ControlledStore::new(false);
    store.fail_saves.store(true, Ordering::SeqCst);
    let provider = stored_provider(&source, store.clone());
    provider.token().await.unwrap();
    assert!(provider.flush().await.is_err());
    store.fail_saves.store(false, Ordering::SeqCst);
    provider.flush().await.unwrap();
    assert!(!provider.status().unsaved);
    let record = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(
        record.token.refresh_token().unwrap().expose_secret(),
        "rt-1"
    );
}

#[tokio::test]
async fn stored_refresh_token_wins_over_configured_seed() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let lease = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let stored = Token::new(
        AccessToken::new("old"),
        Some(start() - chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new("stored-rt"));
    store.save(&lease, &stored).await.unwrap();
    store.release(lease).await.unwrap();

    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(store.clone(), key())
        .seed_refresh_token(RefreshToken::new("configured-rt"))
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(
        source.seen_refresh_tokens.lock().unwrap().clone(),
        [Some("stored-rt".to_owned())]
    );
    let record = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(
        (
            record.version,
            record.token.refresh_token().unwrap().expose_secret()
        ),
        (2, "rt-1")
    );
}

#[tokio::test]
async fn seed_fills_an_empty_store() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(store.clone(), key())
        .seed_refresh_token(RefreshToken::new("configured-rt"))
        .build();
    provider.token().await.unwrap();
    assert_eq!(
        source.seen_refresh_tokens.lock().unwrap().clone(),
        [Some("configured-rt".to_owned())]
    );
}

#[tokio::test]
async fn fresh_stored_token_is_adopted_without_a_fetch() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let lease = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let stored = Token::new(
        AccessToken::new("from-another-process"),
        Some(start() + chrono::Duration::hours(1)),
    );
    store.save(&lease, &stored).await.unwrap();
    store.release(lease).await.unwrap();
    let provider = stored_provider(&source, store);
    assert_eq!(at(&provider.token().await.unwrap()), "from-another-process");
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn invalidated_token_is_not_adopted_again_from_the_store() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let provider = stored_provider(&source, store.clone());
    let first = provider.token().await.unwrap();
    provider.invalidate_token(&first);
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("at-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_providers_sharing_a_file_store_key_refresh_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let a = stored_provider(&source, Arc::new(FileStore::new(dir.path())));
    let b = stored_provider(&source, Arc::new(FileStore::new(dir.path())));
    let ta = tokio::spawn({
        let a = a.clone();
        async move { a.token().await }
    });
    let tb = tokio::spawn({
        let b = b.clone();
        async move { b.token().await }
    });
    until("one fetch to start", || source.calls() == 1).await;
    source.release(1);
    let (ta, tb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
    assert_eq!((at(&ta), at(&tb)), ("at-1", "at-1"));
    assert_eq!(source.calls(), 1);

    // Expired for both: again one refresh, with the refresh token both share.
    clock.advance(HOUR);
    source.release(1);
    let (ta, tb) = tokio::join!(a.token(), b.token());
    assert_eq!((at(&ta.unwrap()), at(&tb.unwrap())), ("at-2", "at-2"));
    assert_eq!(source.calls(), 2);
    assert_eq!(
        source.seen_refresh_tokens.lock().unwrap().clone(),
        [None, Some("rt-1".to_owned())]
    );
}

#[tokio::test]
async fn status_reports_expiry_and_next_refresh() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = provider(&source);
    provider.token().await.unwrap();
    let status = provider.status();
    assert_eq!(
        status.expires_at,
        Some(start() + chrono::Duration::hours(1))
    );
    assert_eq!(
        status.next_refresh_at,
        Some(start() + chrono::Duration::minutes(55))
    );
    assert!(status.last_refreshed_at.is_some());
    assert!(!status.reauthorization_required && !status.unsaved && !status.refreshing);
}

#[tokio::test]
async fn jitter_only_makes_refresh_earlier() {
    let clock = Arc::new(ManualClock::new(start()));
    for _ in 0..20 {
        let source = TestSource::new(&clock);
        let provider = CachedTokenProvider::builder(Arc::clone(&source))
            .clock(clock.clone())
            .jitter(0.5)
            .build();
        provider.token().await.unwrap();
        let next = provider.status().next_refresh_at.unwrap();
        let latest = clock.now() + chrono::Duration::minutes(55);
        let earliest = clock.now() + chrono::Duration::seconds(3600 - 450);
        assert!(next <= latest && next >= earliest, "{next}");
    }
}

// ---------------------------------------------------------------------------------------
// Store notifications: the fleet adopts a new token at once.

#[tokio::test]
async fn a_provider_adopts_the_token_another_provider_saved_without_fetching() {
    let clock = Arc::new(ManualClock::new(start()));
    let source_a = TestSource::new(&clock);
    let source_b = TestSource::new(&clock);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let a = stored_provider(&source_a, store.clone());
    let b = stored_provider(&source_b, store.clone());
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    // A rotates (Doorkeeper revokes at-1 as it issues at-2): B learns at once.
    assert_eq!(at(&a.force_refresh().await.unwrap()), "at-2");
    until("B to publish A's new token", || {
        b.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
    assert_eq!(source_a.calls(), 2);
    assert_eq!(source_b.calls(), 0, "B adopted, it did not fetch");
    assert!(!b.status().refreshing);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_waiting_for_another_lease_wakes_on_the_save_not_the_next_probe() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let provider = stored_provider(&source, store.clone());
    // Another process holds the lease and is refreshing.
    let held = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let started = tokio::time::Instant::now();
    let caller = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    // Yielding keeps the paused clock still: the caller is parked on the lease.
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    assert!(!caller.is_finished());
    let theirs = Token::new(
        AccessToken::new("theirs"),
        Some(clock.now() + chrono::Duration::hours(1)),
    )
    .with_issued_at(clock.now())
    .with_refresh_token(RefreshToken::new("rt-theirs"));
    store.save(&held, &theirs).await.unwrap();
    let token = caller.await.unwrap().unwrap();
    assert_eq!(at(&token), "theirs");
    assert_eq!(source.calls(), 0);
    // Woken by the notification, not by the 250 ms probe (the paused clock would have
    // jumped to it).
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    drop(held);
}

#[tokio::test]
async fn two_processes_on_one_file_store_key_share_the_refresh_instant() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    // Default jitter (a hash of the access token) and spread (a hash of the key).
    let provider = |store: FileStore| {
        CachedTokenProvider::builder(Arc::clone(&source))
            .clock(clock.clone())
            .store(Arc::new(store), key())
            .build()
    };
    let a = provider(FileStore::new(dir.path()));
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    // B starts later, in another "process" (its own FileStore handle), and reads A's record.
    clock.advance(Duration::from_secs(600));
    let b = provider(FileStore::new(dir.path()));
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    assert_eq!(source.calls(), 1);
    let (a, b) = (a.status(), b.status());
    assert!(a.next_refresh_at.is_some());
    assert_eq!(a.next_refresh_at, b.next_refresh_at);
    assert!(a.next_refresh_at < a.expires_at);
}

/// `FileStore` sends no announcements: a provider whose due refresh finds the lease held
/// by another process holds its token back itself (the vendor revokes it when that
/// refresh is answered), and serves the token the holder saves, without a fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoking_sources_token_is_held_back_while_another_process_holds_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    source.revokes.store(true, Ordering::SeqCst);
    // Two "processes": a FileStore handle each.
    let a = stored_provider(&source, Arc::new(FileStore::new(dir.path())));
    let b = stored_provider(&source, Arc::new(FileStore::new(dir.path())));
    source.release(1);
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");

    // Both due; A refreshes first and holds the lease while its request is out.
    clock.advance(HOUR - Duration::from_secs(300));
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    until("A's fetch", || source.calls() == 2).await;
    assert!(a.cached().is_none(), "A holds its own token back");
    // B's background refresh finds the lease taken and holds its token back too.
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while b.cached().is_some() {
        assert!(std::time::Instant::now() < deadline, "B never held back");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.token().await }
    });
    source.release(1);
    assert_eq!(at(&waiting.await.unwrap().unwrap()), "at-2");
    assert_eq!(source.calls(), 2, "B adopted A's token");
}

// ---------------------------------------------------------------------------------------
// The store down: serve the valid token, refresh alone only when it runs out and only
// with a reusable refresh token, save what was fetched meanwhile when the store is back.

/// A MemoryStore that can be switched to "unreachable" (every call fails as a network
/// error would), while another process can still write to the backend (`inner`).
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
}

impl FlakyStore {
    fn check(&self) -> Result<(), AuthError> {
        if self.down.load(Ordering::SeqCst) {
            Err(AuthError::store_unavailable(
                "test: connection refused",
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            ))
        } else {
            Ok(())
        }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Another process saves `token` straight to the backend.
    async fn other_process_saves(&self, token: &Token) -> u64 {
        let lease = self
            .inner
            .lease(&key(), HOUR, Duration::ZERO)
            .await
            .unwrap();
        let version = self.inner.save(&lease, token).await.unwrap().version;
        self.inner.release(lease).await.unwrap();
        version
    }
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        self.check()?;
        self.inner.load(key).await
    }
    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        self.check()?;
        self.inner.lease(key, ttl, wait).await
    }
    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        self.check()?;
        self.inner.save(lease, token).await
    }
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        self.check()?;
        self.inner.renew(lease, ttl).await
    }
    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        self.check()?;
        self.inner.mark_refresh_token_dead(lease, version).await
    }
    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        self.check()?;
        self.inner.release(lease).await
    }
}

/// A provider holding `at-1` (saved) whose store then goes down.
async fn outage(
    rotates: bool,
) -> (
    Arc<ManualClock>,
    Arc<TestSource>,
    Arc<FlakyStore>,
    CachedTokenProvider,
) {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.rotates.store(rotates, Ordering::SeqCst);
    let store = Arc::new(FlakyStore::default());
    let provider = stored_provider(&source, store.clone());
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    store.set_down(true);
    (clock, source, store, provider)
}

/// Moves the clock to 10 s before `provider`'s token expires (inside `min_valid`).
fn run_out(clock: &ManualClock, provider: &CachedTokenProvider) {
    let expires = provider.status().expires_at.unwrap();
    let left = (expires - clock.now()).to_std().unwrap();
    clock.advance(left - Duration::from_secs(10));
}

#[tokio::test]
async fn during_a_store_outage_the_valid_token_is_served_without_fetching() {
    let (clock, source, _store, provider) = outage(false).await;
    assert_eq!(provider.status().store_unavailable_since, None);
    // Into the refresh window: a background refresh finds the store down.
    let due = provider.status().next_refresh_at.unwrap();
    clock.advance((due - clock.now()).to_std().unwrap() + Duration::from_secs(1));
    let outage_began = clock.now();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    until("the background refresh to give up", || {
        !provider.status().refreshing
    })
    .await;
    for _ in 0..10 {
        assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    }
    assert_eq!(source.calls(), 1, "the token did not run out: no fetch");
    let status = provider.status();
    assert_eq!(status.store_unavailable_since, Some(outage_began));
    assert!(status.last_error.unwrap().is_store_unavailable());
}

#[tokio::test]
async fn a_reusable_refresh_token_is_used_alone_when_the_token_runs_out_and_saved_after() {
    let (clock, source, store, provider) = outage(false).await;
    run_out(&clock, &provider);
    // The token would run out: refresh without the lease (Amazon's reusable tokens).
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(source.calls(), 2);
    let status = provider.status();
    assert!(status.unsaved, "held until the store is back");
    assert!(status.store_unavailable_since.is_some());
    assert_eq!(
        stored_access_token(&store.inner).await.as_deref(),
        Some("at-1")
    );

    // The store is back: the next call after the backoff saves it.
    store.set_down(false);
    clock.advance(Duration::from_secs(6));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    until("the held token to be saved", || !provider.status().unsaved).await;
    assert_eq!(
        stored_access_token(&store.inner).await.as_deref(),
        Some("at-2")
    );
    let status = provider.status();
    assert_eq!(status.store_unavailable_since, None, "the outage ended");
    assert!(status.last_error.is_none());
    assert_eq!(source.calls(), 2);
    assert!(
        provider.cached().is_some(),
        "published again on the hot path"
    );
}

#[tokio::test]
async fn a_single_use_refresh_token_is_never_spent_without_the_lease() {
    let (clock, source, store, provider) = outage(true).await;
    run_out(&clock, &provider);
    let error = provider.token().await.unwrap_err();
    assert!(error.is_store_unavailable(), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("single-use"), "{message}");
    assert!(message.contains("no token request was sent"), "{message}");
    assert!(!message.contains("rt-1"), "no secret in the message");
    // Callers keep getting it, and still nothing is sent.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(1));
        assert!(provider.token().await.unwrap_err().is_store_unavailable());
    }
    assert_eq!(
        source.calls(),
        1,
        "the single-use refresh token was not presented"
    );
    assert!(provider.status().store_unavailable_since.is_some());

    // Back: it refreshes under the lease, with the stored refresh token.
    store.set_down(false);
    clock.advance(Duration::from_secs(6));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(
        stored_access_token(&store.inner).await.as_deref(),
        Some("at-2")
    );
    assert_eq!(provider.status().store_unavailable_since, None);
}

#[tokio::test]
async fn a_newer_record_saved_during_the_outage_wins_over_the_unsaved_token() {
    let (clock, source, store, provider) = outage(false).await;
    run_out(&clock, &provider);
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert!(provider.status().unsaved);
    // Meanwhile another process, which could reach the store, saved a newer token.
    let theirs = Token::new(
        AccessToken::new("theirs"),
        Some(clock.now() + chrono::Duration::hours(1)),
    )
    .with_issued_at(clock.now())
    .with_refresh_token(RefreshToken::new("rt-theirs"));
    store.other_process_saves(&theirs).await;

    store.set_down(false);
    clock.advance(Duration::from_secs(6));
    let _ = provider.token().await.unwrap();
    until("the store's token to be adopted", || {
        provider.cached().is_some_and(|t| at(&t) == "theirs")
    })
    .await;
    assert_eq!(
        stored_access_token(&store.inner).await.as_deref(),
        Some("theirs")
    );
    assert!(!provider.status().unsaved);
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn a_rotation_that_could_not_be_saved_survives_another_process_being_refused_its_parent() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    source.rotates.store(true, Ordering::SeqCst);
    let store = Arc::new(FlakyStore::default());
    let provider = stored_provider(&source, store.clone());
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    // A refresh under the lease; the store becomes unreachable while the vendor answers.
    let refresh = tokio::spawn({
        let p = provider.clone();
        async move { p.force_refresh().await }
    });
    until("the refresh to reach the vendor", || source.calls() == 2).await;
    store.set_down(true);
    source.release(1);
    assert_eq!(at(&refresh.await.unwrap().unwrap()), "at-2");
    assert!(provider.status().unsaved, "rotated, not saved: held");
    // The outage outlasts the lease: another process presents rt-1 (spent here) and the
    // vendor refuses it; it marks version 1 dead.
    let lease = store
        .inner
        .lease(&key(), HOUR, Duration::ZERO)
        .await
        .unwrap();
    store
        .inner
        .mark_refresh_token_dead(&lease, 1)
        .await
        .unwrap();
    store.inner.release(lease).await.unwrap();

    store.set_down(false);
    clock.advance(Duration::from_secs(6));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    until("the successor to be saved", || !provider.status().unsaved).await;
    let record = store.inner.load(&key()).await.unwrap().unwrap();
    assert_eq!(at(&record.token), "at-2");
    assert!(!record.refresh_token_dead, "the chain lives on");
    assert!(!provider.status().reauthorization_required);
    assert_eq!(source.calls(), 2);
}

// ---------------------------------------------------------------------------------------
// Findings of the review: each pins a bug that existed.

/// A grant that stamps no issue time, like most library authors' own sources.
#[derive(Debug)]
struct NoIssueTime {
    clock: Arc<ManualClock>,
    calls: AtomicUsize,
}

#[async_trait]
impl TokenSource for NoIssueTime {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Token::new(
            AccessToken::new(format!("at-{n}")),
            Some(self.clock.now() + chrono::Duration::hours(1)),
        ))
    }
}

#[tokio::test]
async fn token_without_issue_time_is_refreshed_inside_its_window() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = Arc::new(NoIssueTime {
        clock: clock.clone(),
        calls: AtomicUsize::new(0),
    });
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    clock.advance(Duration::from_secs(56 * 60)); // 4 min left: inside the 5-min window
    provider.token().await.unwrap();
    until("the background refresh", || {
        provider.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
    assert_eq!(source.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refresh_started_in_the_jitter_band_replaces_the_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(1.0)
        .build();
    provider.token().await.unwrap();
    let next = provider.status().next_refresh_at.unwrap();
    // Just past the jittered due time (and possibly before the unjittered one).
    clock.advance((next - clock.now()).to_std().unwrap() + Duration::from_secs(1));
    provider.token().await.unwrap();
    until("the background refresh", || {
        provider.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn seeded_token_is_saved_to_an_empty_store() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = Arc::new(MemoryStore::new());
    let seed = Token::new(
        AccessToken::new("from-exchange"),
        Some(start() + chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new("rt-exchange"));
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(store.clone(), key())
        .seed(seed)
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "from-exchange");
    assert_eq!(source.calls(), 0);
    let record = store
        .load(&key())
        .await
        .unwrap()
        .expect("the seed was saved");
    assert_eq!(
        record.token.refresh_token().unwrap().expose_secret(),
        "rt-exchange"
    );
}

#[tokio::test]
async fn stale_unsaved_token_never_overwrites_a_newer_stored_rotation() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let store = ControlledStore::new(false);
    store.fail_saves.store(true, Ordering::SeqCst);
    let provider = stored_provider(&source, store.clone());
    provider.token().await.unwrap(); // at-1 held unsaved (base: empty store)
    assert!(provider.status().unsaved);

    // Meanwhile another process saves a newer rotation.
    store.fail_saves.store(false, Ordering::SeqCst);
    let lease = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let newer = Token::new(
        AccessToken::new("other-process"),
        Some(start() + chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new("rt-other"));
    store.save(&lease, &newer).await.unwrap();
    store.release(lease).await.unwrap();

    provider.flush().await.unwrap();
    assert_eq!(
        stored_access_token(&*store).await.as_deref(),
        Some("other-process")
    );
    assert_eq!(at(&provider.token().await.unwrap()), "other-process");
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn force_refresh_during_a_running_refresh_still_refreshes() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    let first = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the first fetch", || source.calls() == 1).await;
    let forced = tokio::spawn({
        let p = provider.clone();
        async move { p.force_refresh().await }
    });
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    source.release(2);
    assert_eq!(at(&first.await.unwrap().unwrap()), "at-1");
    assert_eq!(at(&forced.await.unwrap().unwrap()), "at-2");
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn dead_refresh_token_is_never_presented_again_but_a_new_stored_one_is_used() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Err(invalid_grant()));
    let store = Arc::new(MemoryStore::new());
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .store(store.clone(), key())
        .seed_refresh_token(RefreshToken::new("rt-dead"))
        .build();
    assert!(provider.token().await.unwrap_err().is_invalid_grant());
    clock.advance(Duration::from_secs(10));
    assert!(provider.token().await.unwrap_err().is_invalid_grant());
    assert_eq!(
        source.calls(),
        1,
        "the dead refresh token is not sent again"
    );

    // Another process saves a new authorization; the provider picks it up.
    let lease = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let reauthorized = Token::new(AccessToken::new("old"), Some(start()))
        .with_refresh_token(RefreshToken::new("rt-new"));
    store.save(&lease, &reauthorized).await.unwrap();
    store.release(lease).await.unwrap();
    clock.advance(Duration::from_secs(10));
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(
        source.seen_refresh_tokens.lock().unwrap().clone(),
        [Some("rt-dead".to_owned()), Some("rt-new".to_owned())]
    );
    assert!(!provider.status().reauthorization_required);
}

/// The default clock. The hot path compares a cached clock reading kept ahead of the true
/// time; when it cannot prove a token fresh, the real clock decides. Margins here are
/// minutes, so real time passing during the test changes nothing.
#[tokio::test]
async fn system_clock_serves_fresh_tokens_and_refreshes_due_ones() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let source = auth_core::FnSource::new(move |_previous| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let now = Utc::now();
            Ok(Token::new(
                AccessToken::new(format!("at-{n}")),
                Some(now + chrono::Duration::hours(1)),
            )
            .with_issued_at(now))
        }
    });
    let provider = CachedTokenProvider::builder(source).jitter(0.0).build();

    // Fresh: served from the cache, one fetch.
    for _ in 0..1_000 {
        assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // 4 minutes left of an hour: inside the 5-minute window but usable. Handed out at
    // once, and one background refresh replaces it.
    let now = Utc::now();
    provider
        .replace_token(
            Token::new(
                AccessToken::new("due"),
                Some(now + chrono::Duration::minutes(4)),
            )
            .with_issued_at(now - chrono::Duration::minutes(56)),
        )
        .await
        .unwrap();
    for _ in 0..10 {
        assert_eq!(at(&provider.token().await.unwrap()), "due");
    }
    until("the background refresh", || {
        provider.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    // Less than `min_valid` (30 s) left: never handed out, callers wait for a new one.
    provider
        .replace_token(Token::new(
            AccessToken::new("nearly-expired"),
            Some(Utc::now() + chrono::Duration::seconds(20)),
        ))
        .await
        .unwrap();
    assert_eq!(at(&provider.token().await.unwrap()), "at-3");
    assert_eq!(fetches.load(Ordering::SeqCst), 3);
}

// ---------------------------------------------------------------------------------------
// Second pass: each reproduction of the auth-core second-pass issue.

/// A token named `name` expiring `left` from now on `clock`, with refresh token `rt`.
fn token_left(clock: &ManualClock, name: &str, left: Duration, rt: &str) -> Token {
    let now = clock.now();
    Token::new(
        AccessToken::new(name),
        Some(now + chrono::Duration::from_std(left).unwrap()),
    )
    .with_issued_at(now + chrono::Duration::from_std(left).unwrap() - chrono::Duration::hours(1))
    .with_refresh_token(RefreshToken::new(rt))
}

fn last_presented(source: &TestSource) -> Option<String> {
    source
        .seen_refresh_tokens
        .lock()
        .unwrap()
        .last()
        .cloned()
        .flatten()
}

#[tokio::test]
async fn a_stale_invalid_grant_does_not_mark_a_new_authorization_dead() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let revoked = token_left(&clock, "old", Duration::ZERO, "revoked");
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .seed(revoked)
        .build();
    // A refresh with the revoked refresh token starts and is held.
    let waiting = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the old refresh to start", || source.calls() == 1).await;
    // Meanwhile the seller authorizes again.
    let fresh = token_left(&clock, "new", Duration::from_secs(600), "fresh");
    provider.replace_token(fresh).await.unwrap();
    // The old refresh now fails with invalid_grant.
    source.push(Err(invalid_grant()));
    source.release(1);
    let _ = waiting.await.unwrap();

    assert!(!provider.status().reauthorization_required);
    assert_eq!(at(&provider.token().await.unwrap()), "new");
    // Near the new token's expiry its refresh token is presented.
    clock.advance(Duration::from_secs(590));
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    assert_eq!(last_presented(&source).as_deref(), Some("fresh"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_in_its_refresh_window_is_served_while_refreshes_fail() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    for _ in 0..100 {
        source.push(Err(AuthError::Http {
            vendor: "",
            status: 502,
            excerpt: "bad gateway".into(),
            retry_after: None,
        }));
    }
    // 4 minutes left: inside the 5-minute window, well above min_valid.
    let seed = token_left(&clock, "seeded", Duration::from_secs(240), "rt-seed");
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .seed(seed)
        .build();
    for step in 0..12 {
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let p = provider.clone();
                tokio::spawn(async move { p.token().await })
            })
            .collect();
        for task in tasks {
            let token = task.await.unwrap().expect("the valid seed is served");
            assert_eq!(at(&token), "seeded", "step {step}");
        }
        clock.advance(Duration::from_secs(1));
    }
    // One attempt per failure backoff (5 s) over 12 s.
    assert!(source.calls() <= 3, "{} fetches", source.calls());
}

#[tokio::test]
async fn a_seeded_refresh_token_alone_is_refreshed_through_the_provider() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .seed_refresh_token(RefreshToken::new("rt-seed"))
        .build();
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    assert_eq!(last_presented(&source).as_deref(), Some("rt-seed"));
}

#[tokio::test]
async fn an_outcome_unknown_is_not_invalid_grant_and_the_next_refresh_decides() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    source.push(Err(AuthError::OutcomeUnknown {
        vendor: "",
        message: "no answer within 60s".into(),
    }));
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .seed_refresh_token(RefreshToken::new("rt-0"))
        .build();
    let error = provider.token().await.unwrap_err();
    assert!(!error.is_invalid_grant());
    assert!(error.to_string().contains("may have"), "{error}");
    assert!(!provider.status().reauthorization_required);
    clock.advance(DEFAULT_BACKOFF);
    assert_eq!(at(&provider.token().await.unwrap()), "at-2");
    // The same refresh token is presented again: only the vendor's answer says it died.
    assert_eq!(last_presented(&source).as_deref(), Some("rt-0"));
}

const DEFAULT_BACKOFF: Duration = auth_core::DEFAULT_FAILURE_BACKOFF;

#[tokio::test]
async fn a_remembered_failure_is_not_returned_while_the_store_holds_a_valid_token() {
    let clock = Arc::new(ManualClock::new(start()));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let failing = TestSource::new(&clock);
    failing.push(Err(server_error()));
    let ours = stored_provider(&failing, Arc::clone(&store));
    assert_eq!(ours.token().await.unwrap_err().status(), Some(503));

    // Another process refreshes successfully and saves.
    let other_source = TestSource::new(&clock);
    let other = stored_provider(&other_source, Arc::clone(&store));
    assert_eq!(at(&other.token().await.unwrap()), "at-1");

    // Still within our backoff, yet the store's valid token is handed out.
    assert_eq!(at(&ours.token().await.unwrap()), "at-1");
    assert_eq!(failing.calls(), 1);
}

#[tokio::test]
async fn a_refused_refresh_token_is_marked_dead_in_the_store_for_every_process() {
    let clock = Arc::new(ManualClock::new(start()));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let lease = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    store
        .save(&lease, &token_left(&clock, "old", Duration::ZERO, "spent"))
        .await
        .unwrap();
    store.release(lease).await.unwrap();

    let first = TestSource::new(&clock);
    first.push(Err(invalid_grant()));
    let a = stored_provider(&first, Arc::clone(&store));
    assert!(a.token().await.unwrap_err().is_invalid_grant());
    assert!(
        store
            .load(&key())
            .await
            .unwrap()
            .unwrap()
            .refresh_token_dead
    );

    // Another process never presents it.
    let second = TestSource::new(&clock);
    let b = stored_provider(&second, Arc::clone(&store));
    let error = b.token().await.unwrap_err();
    assert!(error.is_invalid_grant(), "{error}");
    assert!(b.status().reauthorization_required);
    assert_eq!(second.calls(), 0);

    // A new authorization saved by anyone brings both back.
    b.replace_token(token_left(&clock, "new", HOUR, "rt-new"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(at(&a.token().await.unwrap()), "new");
}

/// A source whose token expires `lifetime` after the fetch *starts*, held until told.
#[derive(Debug)]
struct SlowAnswer {
    clock: Arc<ManualClock>,
    gate: Semaphore,
    calls: AtomicUsize,
    lifetime: Duration,
}

#[async_trait]
impl TokenSource for SlowAnswer {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let sent = self.clock.now();
        self.gate.acquire().await.unwrap().forget();
        Ok(Token::new(
            AccessToken::new(format!("at-{n}")),
            Some(sent + chrono::Duration::from_std(self.lifetime).unwrap()),
        )
        .with_issued_at(sent))
    }
}

#[tokio::test]
async fn a_refreshed_token_that_arrives_expired_is_not_handed_out() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = Arc::new(SlowAnswer {
        clock: clock.clone(),
        gate: Semaphore::new(0),
        calls: AtomicUsize::new(0),
        lifetime: Duration::from_secs(60),
    });
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .jitter(0.0)
        .build();
    let waiting = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the fetch to start", || {
        source.calls.load(Ordering::SeqCst) == 1
    })
    .await;
    // The process is frozen for 76 s while the answer (a 60 s token) waits to be read.
    clock.advance(Duration::from_secs(76));
    source.gate.add_permits(2);
    let token = waiting.await.unwrap().unwrap();
    assert_eq!(at(&token), "at-2", "the expired answer was not handed out");
    let left = token.expires_at().unwrap() - clock.now();
    assert!(left >= chrono::Duration::seconds(3), "{left}");
}

#[tokio::test]
async fn a_panicking_source_is_reported_as_an_aborted_refresh_and_the_next_call_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let source = auth_core::FnSource::new(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            assert!(n > 0, "the token source panicked");
            Ok(Token::new(AccessToken::new("ok"), None))
        }
    });
    let provider = CachedTokenProvider::new(source);
    let error = provider.token().await.unwrap_err();
    assert!(matches!(error, AuthError::RefreshAborted(_)), "{error}");
    assert!(!provider.status().refreshing);
    assert_eq!(at(&provider.token().await.unwrap()), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_on_another_holders_lease_is_bounded_and_says_why() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let held = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(Arc::clone(&store), key())
        .lease(Duration::from_secs(30), Duration::from_millis(300))
        .build();
    let started = std::time::Instant::now();
    let error = provider.token().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(error, AuthError::Store { .. }), "{error}");
    assert!(
        error.to_string().contains("held the store's lease"),
        "{error}"
    );
    assert_eq!(source.calls(), 0);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_caller_adopts_what_the_lease_holder_saves() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let held = store.lease(&key(), HOUR, Duration::ZERO).await.unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(Arc::clone(&store), key())
        .build();
    let waiting = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    store
        .save(&held, &token_left(&clock, "from-holder", HOUR, "rt-h"))
        .await
        .unwrap();
    assert_eq!(at(&waiting.await.unwrap().unwrap()), "from-holder");
    assert_eq!(source.calls(), 0);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_renewed_while_a_slow_refresh_runs() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = CachedTokenProvider::builder(Arc::clone(&source))
        .clock(clock.clone())
        .store(store.clone(), key())
        .lease(Duration::from_millis(90), Duration::from_secs(5))
        .build();
    let waiting = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    until("the fetch to start", || source.calls() == 1).await;
    // Four TTLs later the lease is still ours: nobody else can take it.
    tokio::time::sleep(Duration::from_millis(360)).await;
    assert!(
        store
            .lease(&key(), Duration::from_secs(1), Duration::ZERO)
            .await
            .is_err(),
        "the lease lapsed while the refresh ran"
    );
    source.release(1);
    assert_eq!(at(&waiting.await.unwrap().unwrap()), "at-1");
    assert!(!provider.status().unsaved, "the save was not refused");
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("at-1"));
}

#[test]
fn a_refresh_outside_a_tokio_runtime_is_an_error_not_a_hang() {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::new(&clock);
    let provider = provider(&source);
    // Polled by hand on a plain thread: no Tokio runtime to spawn the refresh on.
    let mut cx = Context::from_waker(Waker::noop());
    let mut call = std::pin::pin!(provider.token());
    match call.as_mut().poll(&mut cx) {
        Poll::Ready(Err(AuthError::InvalidConfig(message))) => {
            assert!(message.contains("Tokio runtime"), "{message}");
        }
        other => panic!("expected an error at once, got {other:?}"),
    }
    assert!(!provider.status().refreshing);
    assert_eq!(source.calls(), 0);
}

// ---------------------------------------------------------------------------------------
// A vendor that revokes the previous access token when it answers a refresh (Doorkeeper,
// Easyship): the old token is held back from the moment the request goes out.

/// Into the refresh window of a 1-hour token (5 minutes before expiry), not past
/// `min_valid`.
const INTO_WINDOW: Duration = Duration::from_secs(3600 - 240);

fn revoking(source: Arc<TestSource>) -> Arc<TestSource> {
    source.revokes.store(true, Ordering::SeqCst);
    source
}

/// Yields long enough for every spawned task to get as far as it can.
async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_revoking_sources_token_is_held_back_while_its_refresh_runs() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = revoking(TestSource::gated(&clock));
    let provider = provider(&source);
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    clock.advance(INTO_WINDOW);
    // The hot path hands it out and starts the background refresh...
    assert_eq!(at(&provider.cached().unwrap()), "at-1");
    until("the refresh request to go out", || source.calls() == 2).await;
    // ...which the vendor will answer by revoking at-1: nobody gets it any more.
    assert!(provider.cached().is_none());
    assert!(provider.status().token_held_back);
    let caller = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    settle().await;
    assert!(!caller.is_finished(), "the caller waits for the refresh");
    source.release(1);
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-2");
    assert_eq!(at(&provider.cached().unwrap()), "at-2");
    assert!(!provider.status().token_held_back);
}

#[tokio::test]
async fn a_non_revoking_source_keeps_serving_the_old_token_during_its_refresh() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = TestSource::gated(&clock);
    let provider = provider(&source);
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    clock.advance(INTO_WINDOW);
    assert_eq!(at(&provider.cached().unwrap()), "at-1");
    until("the refresh request to go out", || source.calls() == 2).await;
    assert_eq!(at(&provider.cached().unwrap()), "at-1");
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    source.release(1);
    until("the new token to be published", || {
        provider.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
}

#[tokio::test]
async fn a_failed_refresh_hands_the_held_back_token_out_again() {
    let clock = Arc::new(ManualClock::new(start()));
    let source = revoking(TestSource::gated(&clock));
    let provider = provider(&source);
    source.release(1);
    assert_eq!(at(&provider.token().await.unwrap()), "at-1");
    clock.advance(INTO_WINDOW);
    source.push(Err(server_error()));
    assert_eq!(at(&provider.cached().unwrap()), "at-1");
    until("the refresh request to go out", || source.calls() == 2).await;
    let caller = tokio::spawn({
        let p = provider.clone();
        async move { p.token().await }
    });
    settle().await;
    assert!(!caller.is_finished());
    source.release(1);
    // The vendor refused: it issued nothing, so revoked nothing.
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-1");
    assert_eq!(at(&provider.cached().unwrap()), "at-1");
    assert!(provider.status().last_error.is_some());
}

/// Two providers on one `MemoryStore` key, as two processes on one `RedisStore` key.
fn revoking_pair(
    clock: &Arc<ManualClock>,
) -> (
    Arc<TestSource>,
    CachedTokenProvider,
    Arc<TestSource>,
    CachedTokenProvider,
) {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let build = |source: &Arc<TestSource>| {
        CachedTokenProvider::builder(Arc::clone(source))
            .clock(clock.clone())
            .jitter(0.0)
            .store(Arc::clone(&store), key())
            .lease(Duration::from_secs(10), Duration::from_secs(15))
            .build()
    };
    let source_a = revoking(TestSource::gated(clock));
    let source_b = revoking(TestSource::gated(clock));
    let (a, b) = (build(&source_a), build(&source_b));
    (source_a, a, source_b, b)
}

#[tokio::test]
async fn another_provider_holds_its_token_back_on_the_announcement_and_serves_the_saved_one() {
    let clock = Arc::new(ManualClock::new(start()));
    let (source_a, a, source_b, b) = revoking_pair(&clock);
    source_a.release(1);
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    clock.advance(INTO_WINDOW);
    // A refreshes (in the background, from its hot path) and announces it first.
    assert_eq!(at(&a.cached().unwrap()), "at-1");
    until("A's refresh request to go out", || source_a.calls() == 2).await;
    assert!(a.cached().is_none());
    assert!(b.cached().is_none(), "B heard the announcement");
    let caller = tokio::spawn({
        let b = b.clone();
        async move { b.token().await }
    });
    settle().await;
    assert!(!caller.is_finished(), "B's caller waits for A's save");
    source_a.release(1);
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-2");
    assert_eq!(at(&b.cached().unwrap()), "at-2");
    assert_eq!(source_b.calls(), 0, "B adopted A's token");
}

#[tokio::test]
async fn a_held_back_token_is_served_again_when_no_save_comes_by_the_deadline() {
    let clock = Arc::new(ManualClock::new(start()));
    let (source_a, a, source_b, b) = revoking_pair(&clock);
    source_a.release(1);
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    clock.advance(INTO_WINDOW);
    assert_eq!(at(&a.cached().unwrap()), "at-1");
    until("A's refresh request to go out", || source_a.calls() == 2).await;
    assert!(b.cached().is_none());
    // B's caller joins a refresh that waits on A's lease.
    let caller = tokio::spawn({
        let b = b.clone();
        async move { b.token().await }
    });
    settle().await;
    assert!(!caller.is_finished());
    // A hangs (or died with its lease held): past the hold's deadline (the lease TTL),
    // B hands its token out again, to the waiting caller too (at its next look at the
    // store, within the 250 ms lease probe).
    clock.advance(Duration::from_secs(10));
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    assert!(b.cached().is_some());
    assert_eq!(source_b.calls(), 0);
    source_a.release(1);
    until("A's token to reach B", || {
        b.cached().is_some_and(|t| at(&t) == "at-2")
    })
    .await;
}

#[tokio::test]
async fn a_provider_that_did_not_refresh_serves_again_once_the_announcer_gave_up() {
    let clock = Arc::new(ManualClock::new(start()));
    let (source_a, a, source_b, b) = revoking_pair(&clock);
    source_a.release(1);
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(at(&b.token().await.unwrap()), "at-1");
    // A refreshes early (its API call was rejected, say), and the vendor refuses.
    source_a.push(Err(server_error()));
    let forced = tokio::spawn({
        let a = a.clone();
        async move { a.force_refresh().await }
    });
    until("A's refresh request to go out", || source_a.calls() == 2).await;
    assert!(b.cached().is_none(), "B heard the announcement");
    let caller = tokio::spawn({
        let b = b.clone();
        async move { b.token().await }
    });
    settle().await;
    assert!(!caller.is_finished());
    // A's request fails and A releases the lease: B takes it, finds no new record, and
    // hands its token (valid, not due) out again without a fetch of its own.
    source_a.release(1);
    assert!(forced.await.unwrap().is_err());
    assert_eq!(at(&caller.await.unwrap().unwrap()), "at-1");
    assert_eq!(at(&b.cached().unwrap()), "at-1");
    assert_eq!(at(&a.token().await.unwrap()), "at-1");
    assert_eq!(source_b.calls(), 0);
}
