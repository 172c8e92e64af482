//! The conformance suite every [`TokenStore`] runs: one function that checks each
//! guarantee the trait's docs promise, against a real backend.
//!
//! Like object_store's exported integration tests: a store implementer calls
//! [`check_store`] from their own tests with two handles on one backend (two
//! connections, two `FileStore`s on one directory), so every backend proves the same
//! thing the provider relies on.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::Arc;
//! use auth_core::{MemoryStore, TokenStore};
//!
//! // One MemoryStore shared by both handles: they see one backend.
//! let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
//! auth_core::store::conformance::check_store(store.clone(), store).await;
//! # }
//! ```
//!
//! The checks sleep in real time (TTLs of 100–300 ms, about 3 s in all): run them on a
//! runtime whose clock is not paused. Each check uses its own random key, so a run leaves
//! a few records behind in a persistent backend but never collides with an earlier run.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{StoreKey, TokenStore};
use crate::{AccessToken, RefreshToken, Token};

/// A TTL long enough that a check never sees it lapse.
const LONG: Duration = Duration::from_secs(30);
/// The short TTL of the expiry checks.
const SHORT: Duration = Duration::from_millis(200);

/// Runs every check against `store_a` and `store_b`, two handles on the same backend
/// (for a store in memory: the same store twice). Panics, naming the guarantee, on the
/// first one that does not hold.
///
/// What it checks:
///
/// - a saved token loads back whole: access and refresh token, token type, expiry,
///   scopes, issue times (through `save` and `save_shared`);
/// - versions are 1 for the first write and grow by one with each save and each
///   [`mark_refresh_token_dead`](TokenStore::mark_refresh_token_dead);
/// - a lease is exclusive (through either handle), and fencing numbers grow;
/// - a renewed lease holds past its first TTL;
/// - a save or a mark under an expired or taken-over lease fails and writes nothing
///   (skipped for a store whose leases are held until released, such as an OS lock);
/// - `mark_refresh_token_dead` marks only the version it is given;
/// - `release` frees the lease at once; a dropped lease is freed by its drop or its TTL;
/// - each handle sees the other's writes;
/// - many tasks asking for the lease at once: exactly one gets it;
/// - for a store that offers change notifications ([`TokenStore::watch`] returns `true`
///   through handle b): a save and a mark through handle a reach b's listener with the
///   new version within a second (saves are repeated while a notifier may still be
///   subscribing, so a first message lost to its connecting is not a failure).
pub async fn check_store(store_a: Arc<dyn TokenStore>, store_b: Arc<dyn TokenStore>) {
    round_trip(&*store_a, &*store_b).await;
    versions_grow_by_one(&*store_a).await;
    lease_is_exclusive(&*store_a, &*store_b).await;
    renewed_lease_holds(&*store_a, &*store_b).await;
    lost_lease_writes_nothing(&*store_a, &*store_b).await;
    mark_dead_marks_only_its_version(&*store_a, &*store_b).await;
    release_frees_the_lease(&*store_a, &*store_b).await;
    concurrent_leases_have_one_holder(&store_a, &store_b).await;
    notifications_reach_the_other_handle(&*store_a, &*store_b).await;
}

/// Records what a store told it.
#[derive(Default)]
struct Recorder {
    seen: std::sync::Mutex<Vec<Option<u64>>>,
    changed: tokio::sync::Notify,
}

impl super::StoreListener for Recorder {
    fn record_changed(self: Arc<Self>, version: Option<u64>) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(version);
        self.changed.notify_waiters();
    }
}

impl Recorder {
    /// Waits up to `within` for `version` to be announced.
    async fn announced(&self, version: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.changed.notified();
            if self
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&Some(version))
            {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return false;
            }
        }
    }
}

async fn notifications_reach_the_other_handle(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "notifications";
    let key = key("notifications");
    let recorder = Arc::new(Recorder::default());
    let listener: std::sync::Weak<dyn super::StoreListener> = Arc::downgrade(&recorder) as _;
    if !b.watch(&key, listener) {
        return;
    }
    let lease = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    let mut version = 0;
    let mut heard = false;
    // A notifier may still be subscribing when the first saves go out.
    for n in 1..=10 {
        version = a.save(&lease, &token(n)).await.expect("save").version;
        if recorder
            .announced(version, Duration::from_millis(300))
            .await
        {
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "{CHECK}: b's listener never heard of a save through a"
    );
    a.mark_refresh_token_dead(&lease, version)
        .await
        .expect("mark dead");
    assert!(
        recorder
            .announced(version + 1, Duration::from_secs(1))
            .await,
        "{CHECK}: b's listener did not hear of the mark through a"
    );
    a.release(lease).await.expect("release");
    // A dropped listener is never called again (the store holds it weakly).
    drop(recorder);
    let lease = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    a.save(&lease, &token(11))
        .await
        .expect("save after the listener dropped");
    a.release(lease).await.expect("release");
}

/// A fresh key, unique to this run and check.
fn key(check: &str) -> StoreKey {
    let mut bytes = [0u8; 8];
    let _ = getrandom::getrandom(&mut bytes);
    StoreKey::new(
        "conformance",
        "test",
        format!("client-{:016x}", u64::from_le_bytes(bytes)),
        check,
    )
}

fn at(seconds: i64, nanos: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, nanos).expect("valid timestamp")
}

/// A token with every field set, distinct per `n`.
fn token(n: u32) -> Token {
    Token::new(
        AccessToken::new(format!("at-{n}-\u{e9}\"/\\")),
        Some(at(1_800_000_000 + i64::from(n), 123_456_789)),
    )
    .with_token_type(format!("Bearer{n}"))
    .with_refresh_token(RefreshToken::new(format!("rt-{n}")))
    .with_scopes(
        format!("read:orders write scope-{n}")
            .parse()
            .expect("valid scopes"),
    )
    .with_issued_at(at(1_790_000_000 + i64::from(n), 5_000))
    .with_refresh_token_issued_at(at(1_700_000_000, 1))
}

fn assert_same_token(check: &str, got: &Token, want: &Token) {
    assert_eq!(
        got.access_token().expose_secret(),
        want.access_token().expose_secret(),
        "{check}: access token"
    );
    assert_eq!(
        got.refresh_token().map(|r| r.expose_secret().to_owned()),
        want.refresh_token().map(|r| r.expose_secret().to_owned()),
        "{check}: refresh token"
    );
    assert_eq!(got.token_type(), want.token_type(), "{check}: token type");
    assert_eq!(got.expires_at(), want.expires_at(), "{check}: expires_at");
    assert_eq!(
        got.scopes().to_string(),
        want.scopes().to_string(),
        "{check}: scopes"
    );
    assert_eq!(got.issued_at(), want.issued_at(), "{check}: issued_at");
    assert_eq!(
        got.refresh_token_issued_at(),
        want.refresh_token_issued_at(),
        "{check}: refresh_token_issued_at"
    );
}

async fn round_trip(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "round trip";
    let key = key("round-trip");
    assert!(
        a.load(&key).await.expect("load").is_none(),
        "{CHECK}: a new key loads as empty"
    );
    let lease = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    let saved = a.save(&lease, &token(1)).await.expect("save");
    assert_eq!(saved.version, 1, "{CHECK}: the first save is version 1");
    assert!(!saved.refresh_token_dead, "{CHECK}: a save is not dead");
    assert_same_token(CHECK, &saved.token, &token(1));
    a.release(lease).await.expect("release");
    for (handle, store) in [("a", a), ("b", b)] {
        let loaded = store
            .load(&key)
            .await
            .expect("load")
            .unwrap_or_else(|| panic!("{CHECK}: handle {handle} finds no record"));
        assert_eq!(
            loaded.version, 1,
            "{CHECK}: version through handle {handle}"
        );
        assert!(!loaded.refresh_token_dead, "{CHECK}: dead flag");
        assert_same_token(CHECK, &loaded.token, &token(1));
    }
    // A token with only the required fields comes back without the optional ones.
    let bare = Token::new(AccessToken::new("bare"), None);
    let lease = b.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    b.save(&lease, &bare).await.expect("save");
    b.release(lease).await.expect("release");
    let loaded = a.load(&key).await.expect("load").expect("a record");
    assert_eq!(loaded.version, 2, "{CHECK}: a's view of b's save");
    assert_same_token(CHECK, &loaded.token, &bare);
    // `save_shared` (what a provider calls) is a save like any other.
    let shared = Arc::new(token(2));
    let lease = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    let saved = a.save_shared(&lease, &shared).await.expect("save_shared");
    a.release(lease).await.expect("release");
    assert_eq!(saved.version, 3, "{CHECK}: save_shared is the next version");
    let loaded = b.load(&key).await.expect("load").expect("a record");
    assert_eq!(loaded.version, 3, "{CHECK}: b's view of a's save_shared");
    assert_same_token(CHECK, &loaded.token, &shared);
}

async fn versions_grow_by_one(store: &dyn TokenStore) {
    const CHECK: &str = "versions";
    let key = key("versions");
    let lease = store
        .lease(&key, LONG, Duration::ZERO)
        .await
        .expect("lease");
    for n in 1..=5 {
        let saved = store.save(&lease, &token(n)).await.expect("save");
        assert_eq!(saved.version, u64::from(n), "{CHECK}: save {n}");
        let loaded = store.load(&key).await.expect("load").expect("a record");
        assert_eq!(loaded.version, u64::from(n), "{CHECK}: load after save {n}");
        assert_same_token(CHECK, &loaded.token, &token(n));
    }
    store
        .mark_refresh_token_dead(&lease, 5)
        .await
        .expect("mark dead");
    let loaded = store.load(&key).await.expect("load").expect("a record");
    assert_eq!(loaded.version, 6, "{CHECK}: marking dead is a write");
    let saved = store.save(&lease, &token(7)).await.expect("save");
    assert_eq!(saved.version, 7, "{CHECK}: a save after a mark");
    assert!(
        !saved.refresh_token_dead,
        "{CHECK}: a new save clears the dead mark"
    );
    store.release(lease).await.expect("release");
}

async fn lease_is_exclusive(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "exclusive lease";
    let key = key("exclusive");
    let first = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    for (handle, store) in [("a", a), ("b", b)] {
        let result = store.lease(&key, LONG, Duration::from_millis(100)).await;
        assert!(
            result.is_err(),
            "{CHECK}: handle {handle} got a second lease while the first is held"
        );
    }
    let first_fence = first.fence();
    a.release(first).await.expect("release");
    let second = b.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    assert!(
        second.fence() > first_fence,
        "{CHECK}: fencing numbers grow ({} after {first_fence})",
        second.fence()
    );
    b.release(second).await.expect("release");
}

async fn renewed_lease_holds(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "renewal";
    let key = key("renewal");
    let lease = a.lease(&key, SHORT, Duration::ZERO).await.expect("lease");
    // Renew at a third of the TTL, as the provider does, past twice the first TTL.
    for _ in 0..6 {
        tokio::time::sleep(SHORT / 3).await;
        a.renew(&lease, SHORT).await.expect("renew a held lease");
    }
    assert!(!lease.is_expired(), "{CHECK}: the handle is not expired");
    assert!(
        b.lease(&key, LONG, Duration::ZERO).await.is_err(),
        "{CHECK}: the renewed lease is still exclusive past its first TTL"
    );
    let saved = a.save(&lease, &token(1)).await;
    assert!(saved.is_ok(), "{CHECK}: a save under a renewed lease works");
    a.release(lease).await.expect("release");
}

async fn lost_lease_writes_nothing(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "fencing";
    let key = key("fencing");
    let setup = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    a.save(&setup, &token(1)).await.expect("save");
    a.release(setup).await.expect("release");

    let stale = a.lease(&key, SHORT, Duration::ZERO).await.expect("lease");
    tokio::time::sleep(SHORT + SHORT / 2).await;
    if !stale.is_expired() {
        // Held until released (an OS lock): it cannot be lost while its handle lives.
        assert!(
            b.lease(&key, LONG, Duration::ZERO).await.is_err(),
            "{CHECK}: a lease held until released stays exclusive past its TTL"
        );
        a.release(stale).await.expect("release");
        return;
    }
    // Expired, nobody took it over: refused all the same.
    assert!(
        a.save(&stale, &token(2)).await.is_err(),
        "{CHECK}: a save under an expired lease is refused"
    );
    assert!(
        a.mark_refresh_token_dead(&stale, 1).await.is_err(),
        "{CHECK}: a mark under an expired lease is refused"
    );
    assert!(
        a.renew(&stale, LONG).await.is_err(),
        "{CHECK}: renewing an expired lease is refused"
    );
    // Taken over by another holder.
    let fresh = b
        .lease(&key, LONG, Duration::ZERO)
        .await
        .expect("the expired lease is free for another holder");
    assert!(fresh.fence() > stale.fence(), "{CHECK}: fences grow");
    assert!(
        a.save(&stale, &token(3)).await.is_err(),
        "{CHECK}: a save under a taken-over lease is refused"
    );
    assert!(
        a.mark_refresh_token_dead(&stale, 1).await.is_err(),
        "{CHECK}: a mark under a taken-over lease is refused"
    );
    assert!(
        a.renew(&stale, LONG).await.is_err(),
        "{CHECK}: renewing a taken-over lease is refused"
    );
    // Releasing the stale handle must not free the new holder's lease.
    a.release(stale).await.ok();
    assert!(
        a.lease(&key, LONG, Duration::ZERO).await.is_err(),
        "{CHECK}: releasing a lost lease freed another holder's"
    );
    let record = b.load(&key).await.expect("load").expect("a record");
    assert_eq!(
        (record.version, record.refresh_token_dead),
        (1, false),
        "{CHECK}: refused writes wrote nothing"
    );
    assert_same_token(CHECK, &record.token, &token(1));
    assert_eq!(
        b.save(&fresh, &token(4)).await.expect("save").version,
        2,
        "{CHECK}: the current holder saves"
    );
    b.release(fresh).await.expect("release");
}

async fn mark_dead_marks_only_its_version(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "mark dead";
    let key = key("mark-dead");
    let lease = a.lease(&key, LONG, Duration::ZERO).await.expect("lease");
    // On no record at all: nothing is written.
    a.mark_refresh_token_dead(&lease, 1)
        .await
        .expect("mark on an empty key");
    assert!(
        a.load(&key).await.expect("load").is_none(),
        "{CHECK}: marking an absent record wrote one"
    );
    a.save(&lease, &token(1)).await.expect("save");
    a.save(&lease, &token(2)).await.expect("save");
    a.mark_refresh_token_dead(&lease, 1)
        .await
        .expect("mark an old version");
    let record = b.load(&key).await.expect("load").expect("a record");
    assert_eq!(
        (record.version, record.refresh_token_dead),
        (2, false),
        "{CHECK}: an older version's mark leaves the newer record alone"
    );
    a.mark_refresh_token_dead(&lease, 2)
        .await
        .expect("mark the current version");
    let record = b.load(&key).await.expect("load").expect("a record");
    assert_eq!(
        (record.version, record.refresh_token_dead),
        (3, true),
        "{CHECK}: the current version is marked, as a new version"
    );
    assert_same_token(CHECK, &record.token, &token(2));
    a.release(lease).await.expect("release");
}

async fn release_frees_the_lease(a: &dyn TokenStore, b: &dyn TokenStore) {
    const CHECK: &str = "release";
    let released = key("release");
    let lease = a
        .lease(&released, LONG, Duration::ZERO)
        .await
        .expect("lease");
    a.release(lease).await.expect("release");
    let again = b.lease(&released, LONG, Duration::ZERO).await;
    assert!(again.is_ok(), "{CHECK}: a released lease is free at once");
    drop(again);
    // A dropped lease (a cancelled refresh) is freed by its drop or by its TTL.
    let dropped_key = key("dropped");
    let dropped = a
        .lease(&dropped_key, SHORT, Duration::ZERO)
        .await
        .expect("lease");
    drop(dropped);
    let after = b.lease(&dropped_key, LONG, SHORT * 3).await;
    assert!(
        after.is_ok(),
        "{CHECK}: a dropped lease is freed by its drop or its TTL"
    );
    if let Ok(after) = after {
        b.release(after).await.expect("release");
    }
}

async fn concurrent_leases_have_one_holder(a: &Arc<dyn TokenStore>, b: &Arc<dyn TokenStore>) {
    const CHECK: &str = "concurrent leases";
    const TASKS: usize = 32;
    let key = key("concurrent");
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let key = key.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                store.lease(&key, LONG, Duration::ZERO).await.ok()
            })
        })
        .collect();
    let mut held = Vec::new();
    for task in tasks {
        if let Some(lease) = task.await.expect("lease task") {
            held.push(lease);
        }
    }
    assert_eq!(
        held.len(),
        1,
        "{CHECK}: {TASKS} tasks asking at once, exactly one holder"
    );
    for lease in held {
        a.release(lease).await.expect("release");
    }
}
