//! Change notifications over Redis pub/sub: one subscriber connection per store, started
//! when the first provider registers.
//!
//! The save and mark scripts `PUBLISH` `version record-key` on one channel per key prefix
//! (`{prefix}token-changes`) in the same script as the write, so a message never arrives
//! before its record is readable. A lease holder about to send a refresh publishes
//! `refreshing base record-key` on the same channel
//! ([`TokenStore::announce_refresh`](auth_core::TokenStore::announce_refresh)); a
//! subscriber that does not know that form ignores it. Pub/sub rather than keyspace notifications: those need
//! `notify-keyspace-events` in the server's configuration (managed Redis services often
//! forbid `CONFIG SET`), and would wake on every write to every key, lease renewals
//! included. A message published while the subscriber is disconnected is lost, so after
//! every (re)subscription every listener is told to re-read (`None`).

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use auth_core::{StoreListener, StoreListeners};
use futures_util::StreamExt as _;
use redis::aio::{PubSubSink, PubSubStream};

/// The first pause before a reconnection; it doubles up to [`RECONNECT_MAX`].
const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// The longest pause between two reconnection attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(5);
/// A subscriber that heard nothing for this long pings the server: a connection that died
/// silently (a NAT timeout, a failover) is noticed within this plus the response timeout.
const PING_AFTER: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The subscriber of one store (shared by its clones).
pub(crate) struct Notifier {
    client: redis::Client,
    channel: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    /// Record key (as in Redis) -> listeners.
    listeners: Arc<StoreListeners<String>>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Notifier {
    pub(crate) fn new(
        client: redis::Client,
        channel: String,
        connection_timeout: Duration,
        response_timeout: Duration,
    ) -> Self {
        Self {
            client,
            channel,
            connection_timeout,
            response_timeout,
            listeners: Arc::default(),
            task: Mutex::new(None),
        }
    }

    /// The same settings on another channel (a new key prefix), with its own
    /// registry and subscriber.
    pub(crate) fn with_channel(&self, channel: String) -> Self {
        Self::new(
            self.client.clone(),
            channel,
            self.connection_timeout,
            self.response_timeout,
        )
    }

    /// Registers `listener` for `record_key` and makes sure the subscriber runs. Returns
    /// whether notifications will be delivered (not outside a Tokio runtime).
    pub(crate) fn watch(&self, record_key: String, listener: Weak<dyn StoreListener>) -> bool {
        self.listeners.add(record_key, listener);
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let subscriber = Subscriber {
            client: self.client.clone(),
            channel: self.channel.clone(),
            connection_timeout: self.connection_timeout,
            response_timeout: self.response_timeout,
            listeners: Arc::downgrade(&self.listeners),
        };
        *task = Some(runtime.spawn(subscriber.run()).abort_handle());
        true
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

/// The subscriber task's state. It holds the registry weakly: it ends when the store does.
struct Subscriber {
    client: redis::Client,
    channel: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    listeners: Weak<StoreListeners<String>>,
}

impl Subscriber {
    async fn run(self) {
        let mut pause = RECONNECT_MIN;
        let mut lost = false;
        loop {
            match self.subscribe().await {
                Ok((sink, stream)) => {
                    if lost {
                        tracing::info!(channel = %self.channel, "redis change notifications: subscribed again");
                    }
                    pause = RECONNECT_MIN;
                    // Whatever was written while nobody listened: every provider re-reads.
                    let Some(listeners) = self.listeners.upgrade() else {
                        return;
                    };
                    listeners.notify_all();
                    drop(listeners);
                    if !self.listen(sink, stream).await {
                        return;
                    }
                    tracing::warn!(channel = %self.channel, "redis change notifications: connection lost; reconnecting (providers read the store on their own meanwhile)");
                    lost = true;
                }
                Err(error) => {
                    if !lost {
                        tracing::warn!(channel = %self.channel, %error, "redis change notifications: cannot subscribe; retrying with backoff");
                        lost = true;
                    }
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RECONNECT_MAX);
        }
    }

    /// A pub/sub connection subscribed to the channel, each step within its timeout.
    async fn subscribe(&self) -> Result<(PubSubSink, PubSubStream), Error> {
        let pubsub = tokio::time::timeout(self.connection_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| timed_out("connecting"))??;
        let (mut sink, stream) = pubsub.split();
        tokio::time::timeout(self.response_timeout, sink.subscribe(&self.channel))
            .await
            .map_err(|_| timed_out("subscribing"))??;
        Ok((sink, stream))
    }

    /// Dispatches messages until the connection is lost (`true`) or the store is gone
    /// (`false`).
    async fn listen(&self, mut sink: PubSubSink, mut stream: PubSubStream) -> bool {
        loop {
            match tokio::time::timeout(PING_AFTER, stream.next()).await {
                Ok(Some(message)) => {
                    let Some(listeners) = self.listeners.upgrade() else {
                        return false;
                    };
                    match parse(message.get_payload_bytes()) {
                        Some(Message::Changed(version, record_key)) => {
                            listeners.notify(&record_key.to_owned(), Some(version));
                        }
                        Some(Message::Refreshing(base, record_key)) => {
                            listeners.notify_refresh(&record_key.to_owned(), base);
                        }
                        None => {
                            tracing::debug!(channel = %self.channel, "ignored a message that is not a token change")
                        }
                    }
                }
                Ok(None) => return true,
                Err(_) => {
                    if self.listeners.strong_count() == 0 {
                        return false;
                    }
                    let pong =
                        tokio::time::timeout(self.response_timeout, sink.ping::<redis::Value>())
                            .await;
                    if !matches!(pong, Ok(Ok(_))) {
                        return true;
                    }
                }
            }
        }
    }
}

fn timed_out(what: &str) -> Error {
    Box::new(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} timed out"),
    ))
}

/// The word before a refresh announcement's base version.
pub(crate) const REFRESHING: &str = "refreshing";

/// A message on the change channel.
#[derive(Debug, PartialEq, Eq)]
enum Message<'a> {
    /// `version record-key`, as the save and mark scripts publish it.
    Changed(u64, &'a str),
    /// `refreshing base record-key`: a lease holder is about to refresh from `base`.
    Refreshing(u64, &'a str),
}

fn parse(payload: &[u8]) -> Option<Message<'_>> {
    let payload = std::str::from_utf8(payload).ok()?;
    if let Some(rest) = payload
        .strip_prefix(REFRESHING)
        .and_then(|r| r.strip_prefix(' '))
    {
        let (base, key) = rest.split_once(' ')?;
        return Some(Message::Refreshing(base.parse().ok()?, key));
    }
    let (version, key) = payload.split_once(' ')?;
    Some(Message::Changed(version.parse().ok()?, key))
}

#[cfg(test)]
mod tests {
    use super::{Message, parse};

    #[test]
    fn messages_are_a_version_then_the_record_key() {
        assert_eq!(
            parse(b"7 p:{a.b}:record"),
            Some(Message::Changed(7, "p:{a.b}:record"))
        );
        assert_eq!(
            parse(b"7 a key with spaces"),
            Some(Message::Changed(7, "a key with spaces"))
        );
        assert_eq!(parse(b"x p:record"), None);
        assert_eq!(parse(b"7"), None);
    }

    #[test]
    fn refresh_announcements_are_a_word_a_base_version_then_the_record_key() {
        assert_eq!(
            parse(b"refreshing 7 p:{a.b}:record"),
            Some(Message::Refreshing(7, "p:{a.b}:record"))
        );
        assert_eq!(parse(b"refreshing x p:record"), None);
        assert_eq!(parse(b"refreshing 7"), None);
    }
}
