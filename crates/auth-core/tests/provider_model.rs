//! A model-based property test of `CachedTokenProvider` with a store.
//!
//! Random sequences of events (calls, clock steps, fetch outcomes, another process
//! refreshing through the store, new authorizations, invalidations, forced refreshes,
//! cancelled callers) drive one provider against a model of a vendor with single-use
//! refresh tokens (Easyship). After every step the invariants are checked:
//!
//! 1. a refresh token whose rotation the provider (or the other process) received is
//!    never presented again;
//! 2. every token handed out has at least `min_valid` left by the provider's clock;
//! 3. a failed or stale refresh never marks a newer authorization dead:
//!    `reauthorization_required` only when the vendor refused the latest authorization;
//! 4. nothing the vendor delivered is lost: the latest chain's newest refresh token is
//!    in the store, or held unsaved, or on its way there (a `replace_token` in flight);
//! 5. while the provider cannot reach the store (`StoreDown` .. `StoreUp`, another
//!    process still can), it never presents its single-use refresh token: that needs
//!    the store's lease;
//! 6. the vendor revokes the previous access token when it issues a new one (Doorkeeper):
//!    a call that starts while a refresh request is out never gets the access token that
//!    request revokes, if the vendor answers it (a lost answer may have revoked it too;
//!    then the provider serves it again, and `send`'s rejected-token retry covers it).
//!
//! `PROPTEST_CASES` sets the number of cases (CI runs the default below; run 100000
//! locally: `PROPTEST_CASES=100000 cargo test -p auth-core --test provider_model --release`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, Clock, Lease, ManualClock, MemoryStore,
    OAuthErrorCode, RefreshToken, StoreKey, Token, TokenRecord, TokenSource, TokenStore,
};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const LIFETIME: Duration = Duration::from_secs(3600);
const MIN_VALID: Duration = Duration::from_secs(30);
const BACKOFF: Duration = Duration::from_secs(5);

fn start() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn key() -> StoreKey {
    StoreKey::new("model", "production", "client", "seller")
}

/// How a held fetch ends.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// The vendor answers (a rotation, or `invalid_grant` for a spent token).
    Delivered,
    /// 503 before reaching the vendor.
    Unavailable,
    /// The vendor rotated, the answer was lost (a crash-free stand-in for a timeout).
    Lost,
}

#[derive(Debug, Clone)]
enum Event {
    Call,
    Release(Answer),
    Advance(u64),
    OtherProcessRefreshes,
    NewAuthorization,
    Invalidate,
    ForceRefresh,
    CancelOldestCaller,
    /// The provider loses the store (another process still reaches it).
    StoreDown,
    StoreUp,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => Just(Event::Call),
        2 => Just(Event::Release(Answer::Delivered)),
        1 => Just(Event::Release(Answer::Unavailable)),
        1 => Just(Event::Release(Answer::Lost)),
        3 => prop_oneof![Just(1u64), Just(4), Just(60), Just(290), Just(1800), Just(3600)]
            .prop_map(Event::Advance),
        1 => Just(Event::OtherProcessRefreshes),
        1 => Just(Event::NewAuthorization),
        1 => Just(Event::Invalidate),
        1 => Just(Event::ForceRefresh),
        1 => Just(Event::CancelOldestCaller),
        1 => Just(Event::StoreDown),
        1 => Just(Event::StoreUp),
    ]
}

/// The vendor: single-use refresh tokens, one chain per authorization.
#[derive(Debug, Default)]
struct Vendor {
    issued: u64,
    /// Refresh token, and access token -> its authorization, for every token issued.
    authorization_of: HashMap<String, u64>,
    /// Valid (unspent) refresh tokens.
    valid: HashSet<String>,
    /// Spent refresh tokens whose rotation was delivered to the presenter.
    delivered: HashSet<String>,
    /// Refresh tokens refused with a delivered `invalid_grant`.
    refused: HashSet<String>,
    latest_authorization: u64,
    /// The latest authorization's newest refresh token, if its issue was delivered.
    latest_head: Option<String>,
    /// The vendor refused a refresh token of the latest authorization.
    latest_dead: bool,
    violations: Vec<String>,
}

impl Vendor {
    fn issue(&mut self, authorization: u64, now: DateTime<Utc>) -> Token {
        self.issued += 1;
        let rt = format!("rt-{}", self.issued);
        let at = format!("at-{}", self.issued);
        self.authorization_of.insert(rt.clone(), authorization);
        self.authorization_of.insert(at.clone(), authorization);
        self.valid.insert(rt.clone());
        Token::new(
            AccessToken::new(at),
            Some(now + chrono::Duration::from_std(LIFETIME).unwrap()),
        )
        .with_issued_at(now)
        .with_refresh_token(RefreshToken::new(rt))
    }

    fn authorize(&mut self, now: DateTime<Utc>) -> Token {
        self.latest_authorization += 1;
        self.latest_dead = false;
        let token = self.issue(self.latest_authorization, now);
        self.latest_head = token.refresh_token().map(|r| r.expose_secret().to_owned());
        token
    }

    /// Presents `rt`; `delivered`: whether the answer reaches the presenter; `other`:
    /// the other process presents it.
    ///
    /// The other process may present a superseded authorization's spent refresh token
    /// when the provider could not save the new authorization (the store was down):
    /// harmless, that chain was abandoned, and the new one is saved over it when the
    /// store is back. Only the latest chain must never be spent twice by it.
    fn refresh(
        &mut self,
        rt: &str,
        delivered: bool,
        other: bool,
        now: DateTime<Utc>,
    ) -> Result<Token, AuthError> {
        let superseded =
            self.authorization_of.get(rt).copied().unwrap_or(0) < self.latest_authorization;
        if self.delivered.contains(rt) && !(other && superseded) {
            self.violations.push(format!(
                "{rt} presented again after its rotation was delivered"
            ));
        }
        if self.refused.contains(rt) {
            self.violations
                .push(format!("{rt} presented again after it was refused"));
        }
        let authorization = self.authorization_of.get(rt).copied().unwrap_or(0);
        if !self.valid.remove(rt) {
            if authorization == self.latest_authorization {
                self.latest_dead = true;
            }
            if delivered {
                self.refused.insert(rt.to_owned());
            }
            return Err(AuthError::oauth(
                OAuthErrorCode::InvalidGrant,
                None,
                Some(400),
            ));
        }
        let token = self.issue(authorization, now);
        if delivered {
            self.delivered.insert(rt.to_owned());
        }
        if authorization == self.latest_authorization {
            self.latest_head = delivered
                .then(|| token.refresh_token().map(|r| r.expose_secret().to_owned()))
                .flatten();
        }
        Ok(token)
    }
}

/// A held fetch, waiting for the test to say how it ends.
struct Pending {
    presented: Option<String>,
    reply: oneshot::Sender<Result<Token, AuthError>>,
    /// The request's number.
    id: u64,
}

/// The grant: each fetch waits until the test releases it.
#[derive(Debug, Default)]
struct HeldSource {
    pending: Mutex<VecDeque<PendingSlot>>,
    /// Requests sent so far (numbers them).
    requests: std::sync::atomic::AtomicU64,
    /// The provider's store is down (invariant 5).
    store_down: Arc<AtomicBool>,
    violations: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct PendingSlot(
    Option<String>,
    oneshot::Sender<Result<Token, AuthError>>,
    /// The access token presented with it (the one the vendor revokes).
    String,
    /// The request's number.
    u64,
);

#[async_trait]
impl TokenSource for HeldSource {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let presented = previous
            .and_then(Token::refresh_token)
            .map(|r| r.expose_secret().to_owned());
        let Some(presented) = presented else {
            return Err(AuthError::NoRefreshToken);
        };
        if self.store_down.load(Ordering::SeqCst) {
            self.violations.lock().unwrap().push(format!(
                "{presented} presented while the store (and its lease) was unreachable"
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.pending.lock().unwrap().push_back(PendingSlot(
            Some(presented),
            reply,
            previous
                .map(|p| p.access_token().expose_secret().to_owned())
                .unwrap_or_default(),
            self.requests.fetch_add(1, Ordering::SeqCst),
        ));
        answer.await.unwrap_or_else(|_| {
            Err(AuthError::RefreshAborted(
                "the test dropped the fetch".into(),
            ))
        })
    }

    /// Doorkeeper (invariant 6).
    fn revokes_previous_access_token(&self) -> bool {
        true
    }
}

impl HeldSource {
    /// The requests out now, with the access token each revokes if answered.
    fn revoking(&self) -> RequestsOut {
        self.pending
            .lock()
            .unwrap()
            .iter()
            .map(|slot| (slot.3, slot.2.clone()))
            .collect()
    }

    fn take(&self) -> Option<Pending> {
        self.pending
            .lock()
            .unwrap()
            .pop_front()
            .map(|PendingSlot(presented, reply, _, id)| Pending {
                presented,
                reply,
                id,
            })
    }
}

/// The provider's view of the store: the shared backend, or "unreachable".
#[derive(Debug)]
struct OutageStore {
    inner: Arc<MemoryStore>,
    down: Arc<AtomicBool>,
    /// Leases whose release could not reach the store: held in the backend until their
    /// TTL (an hour of real time, as a memory lease counts it: the rest of the case), as
    /// a Redis lease would be. Releasing them at once would let the other process spend
    /// a refresh token the provider rotated but could not save, which no lease-based
    /// store can prevent once the lease has lapsed.
    stranded: Mutex<Vec<Lease>>,
}

impl OutageStore {
    fn check(&self) -> Result<(), AuthError> {
        if self.down.load(Ordering::SeqCst) {
            Err(AuthError::store_unavailable(
                "model: connection refused",
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl TokenStore for OutageStore {
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
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        self.check()?;
        self.inner.renew(lease, ttl).await
    }
    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        self.check()?;
        self.inner.save(lease, token).await
    }
    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        self.check()?;
        self.inner.mark_refresh_token_dead(lease, version).await
    }
    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        if let Err(error) = self.check() {
            self.stranded.lock().unwrap().push(lease);
            return Err(error);
        }
        self.inner.release(lease).await
    }
    async fn announce_refresh(&self, lease: &Lease, base: u64) -> Result<(), AuthError> {
        self.check()?;
        self.inner.announce_refresh(lease, base).await
    }
    fn watch(
        &self,
        key: &StoreKey,
        listener: std::sync::Weak<dyn auth_core::StoreListener>,
    ) -> bool {
        self.inner.watch(key, listener)
    }
}

/// A spawned provider call.
type Call = JoinHandle<Result<Arc<Token>, AuthError>>;

/// The refresh requests out at some instant: each one's number and the access token it
/// presented.
type RequestsOut = Vec<(u64, String)>;

struct World {
    clock: Arc<ManualClock>,
    vendor: Vendor,
    source: Arc<HeldSource>,
    store: Arc<MemoryStore>,
    with_store: bool,
    provider: CachedTokenProvider,
    /// Calls in flight, each with the newest authorization installed when it started:
    /// a call that starts after `replace_token` returned must not get an older one.
    /// And the access tokens refresh requests out at its start revoke if answered.
    callers: VecDeque<(Call, u64, RequestsOut)>,
    /// Refresh requests the vendor answered with a new token, revoking the access token
    /// they presented (invariant 6).
    revoking_delivered: HashSet<u64>,
    /// Requests that were out when a call started and presented the token it got: none
    /// may be answered with a new token, even later.
    handed_while_out: HashSet<u64>,
    /// `replace_token` calls in flight, with their authorization.
    replacing: Vec<(Call, u64)>,
    /// The newest authorization whose `replace_token` returned.
    installed: u64,
}

async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

impl World {
    async fn new(with_store: bool) -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        let mut vendor = Vendor::default();
        let first = vendor.authorize(clock.now());
        let store = Arc::new(MemoryStore::new());
        let source = Arc::new(HeldSource::default());
        let outage = Arc::new(OutageStore {
            inner: Arc::clone(&store),
            down: Arc::clone(&source.store_down),
            stranded: Mutex::new(Vec::new()),
        });
        let mut builder = CachedTokenProvider::builder(Arc::clone(&source))
            .clock(clock.clone())
            .jitter(0.0)
            .min_valid(MIN_VALID)
            .failure_backoff(BACKOFF)
            .lease(Duration::from_secs(3600), Duration::from_secs(3600))
            .seed(first);
        if with_store {
            builder = builder.store(outage, key());
        }
        Self {
            clock,
            vendor,
            source,
            store,
            with_store,
            provider: builder.build(),
            callers: VecDeque::new(),
            revoking_delivered: HashSet::new(),
            handed_while_out: HashSet::new(),
            replacing: Vec::new(),
            installed: 1,
        }
    }

    async fn apply(&mut self, event: &Event) {
        match event {
            Event::Call => {
                let provider = self.provider.clone();
                self.callers.push_back((
                    tokio::spawn(async move { provider.token().await }),
                    self.installed,
                    self.source.revoking(),
                ));
            }
            Event::ForceRefresh => {
                let provider = self.provider.clone();
                self.callers.push_back((
                    tokio::spawn(async move { provider.force_refresh().await }),
                    self.installed,
                    self.source.revoking(),
                ));
            }
            Event::Release(answer) => {
                if let Some(pending) = self.source.take() {
                    let now = self.clock.now();
                    let presented = pending.presented.unwrap_or_default();
                    let reply = match answer {
                        Answer::Unavailable => Err(AuthError::Http {
                            vendor: "",
                            status: 503,
                            excerpt: String::new(),
                            retry_after: None,
                        }),
                        Answer::Delivered => {
                            let reply = self.vendor.refresh(&presented, true, false, now);
                            if reply.is_ok() {
                                self.revoking_delivered.insert(pending.id);
                            }
                            reply
                        }
                        Answer::Lost => {
                            let _ = self.vendor.refresh(&presented, false, false, now);
                            Err(AuthError::OutcomeUnknown {
                                vendor: "",
                                message: "no answer".into(),
                            })
                        }
                    };
                    let _ = pending.reply.send(reply);
                }
            }
            Event::Advance(secs) => self.clock.advance(Duration::from_secs(*secs)),
            Event::OtherProcessRefreshes if !self.with_store => {}
            Event::OtherProcessRefreshes => {
                // Another process's whole refresh, under the lease, when it can get it.
                let Ok(lease) = self
                    .store
                    .lease(&key(), Duration::from_secs(3600), Duration::ZERO)
                    .await
                else {
                    return;
                };
                if let Some(record) = self.store.load(&key()).await.unwrap()
                    && !record.refresh_token_dead
                    && let Some(rt) = record.token.refresh_token()
                {
                    let rt = rt.expose_secret().to_owned();
                    match self.vendor.refresh(&rt, true, true, self.clock.now()) {
                        Ok(token) => {
                            self.store.save(&lease, &token).await.unwrap();
                        }
                        Err(_) => {
                            self.store
                                .mark_refresh_token_dead(&lease, record.version)
                                .await
                                .unwrap();
                        }
                    }
                }
                self.store.release(lease).await.unwrap();
            }
            Event::NewAuthorization => {
                let token = self.vendor.authorize(self.clock.now());
                let provider = self.provider.clone();
                self.replacing.push((
                    tokio::spawn(async move { provider.replace_token(token).await }),
                    self.vendor.latest_authorization,
                ));
            }
            Event::Invalidate => self.provider.invalidate(),
            Event::CancelOldestCaller => {
                if let Some((caller, _, _)) = self.callers.pop_front() {
                    caller.abort();
                }
            }
            Event::StoreDown => self
                .source
                .store_down
                .store(self.with_store, Ordering::SeqCst),
            Event::StoreUp => self.source.store_down.store(false, Ordering::SeqCst),
        }
        settle().await;
    }

    /// Checks the invariants; returns the first violation.
    async fn check(&mut self) -> Result<(), String> {
        if let Some(violation) = self.vendor.violations.first() {
            return Err(violation.clone());
        }
        if let Some(violation) = self.source.violations.lock().unwrap().first() {
            return Err(violation.clone());
        }
        // Replacements that returned: no older authorization's token is handed out after.
        let mut in_flight = Vec::new();
        for (replace, authorization) in self.replacing.drain(..) {
            if replace.is_finished() {
                self.installed = self.installed.max(authorization);
            } else {
                in_flight.push((replace, authorization));
            }
        }
        self.replacing = in_flight;

        // 2: what was handed out since the last step, checked at the time it was.
        let now = self.clock.now();
        let mut still_waiting = VecDeque::new();
        for (caller, installed, revoking) in self.callers.drain(..) {
            if !caller.is_finished() {
                still_waiting.push_back((caller, installed, revoking));
                continue;
            }
            if let Ok(Ok(token)) = caller.await
                && let Some(expires) = token.expires_at()
            {
                let left = expires - now;
                if left < chrono::Duration::from_std(MIN_VALID).unwrap() {
                    return Err(format!("handed out a token with {left} left"));
                }
                let access = token.access_token().expose_secret();
                let authorization = self.vendor.authorization_of.get(access).copied();
                if authorization < Some(installed) {
                    return Err(format!(
                        "handed out {access} of authorization {authorization:?} after \
                         authorization {installed} was installed"
                    ));
                }
                self.handed_while_out.extend(
                    revoking
                        .iter()
                        .filter(|(_, presented)| presented == access)
                        .map(|(id, _)| *id),
                );
            }
        }
        self.callers = still_waiting;
        // 6: not the token a refresh request out at the call's start revoked.
        if let Some(id) = self
            .handed_while_out
            .intersection(&self.revoking_delivered)
            .next()
        {
            return Err(format!(
                "handed out the token that request {id} presented after it was sent, and \
                 the vendor answered it (revoking that token)"
            ));
        }

        // 3: only the vendor's refusal of the latest authorization makes it dead.
        let status = self.provider.status();
        if status.reauthorization_required && !self.vendor.latest_dead && self.replacing.is_empty()
        {
            return Err("reauthorization required though the latest authorization is alive".into());
        }

        // 4: the newest delivered refresh token of the latest chain is not lost.
        if let Some(head) = &self.vendor.latest_head
            && self.with_store
            && self.replacing.is_empty()
            && !status.unsaved
        {
            let stored = self.store.load(&key()).await.unwrap().and_then(|r| {
                r.token
                    .refresh_token()
                    .map(|t| t.expose_secret().to_owned())
            });
            // The seed is saved on the first call; before it the configuration has it.
            let seeded_not_yet_saved = stored.is_none() && self.vendor.issued == 1;
            if stored.as_deref() != Some(head.as_str()) && !seeded_not_yet_saved {
                return Err(format!(
                    "the latest refresh token {head} is neither stored ({stored:?}) nor held"
                ));
            }
        }
        Ok(())
    }
}

fn run(with_store: bool, events: Vec<Event>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut world = World::new(with_store).await;
        for (step, event) in events.iter().enumerate() {
            world.apply(event).await;
            if let Err(violation) = world.check().await {
                return Err(TestCaseError::fail(format!(
                    "step {step} ({event:?}): {violation}"
                )));
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_provider_keeps_its_invariants(
        with_store in any::<bool>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        run(with_store, events)?;
    }
}
