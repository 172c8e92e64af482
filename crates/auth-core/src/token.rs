//! [`Token`] and the expiry arithmetic every vendor shares.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{AccessToken, RefreshToken, Scopes};

/// How far a server-issued time (Easyship `created_at`, Pitney Bowes `issuedAt`, a
/// response's `Date`) may be from our clock and still be trusted to shorten an expiry.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// An access token with what is known about it.
///
/// `Debug` never shows the access or refresh token.
///
/// # Examples
///
/// A library author's own [`TokenSource`](crate::TokenSource) builds one like this:
///
/// ```
/// use auth_core::{AccessToken, RefreshToken, Token};
/// use chrono::{Duration, Utc};
///
/// let token = Token::new(AccessToken::new("at"), Some(Utc::now() + Duration::hours(1)))
///     .with_refresh_token(RefreshToken::new("rt"))
///     .with_scopes("read write".parse().unwrap());
/// assert!(token.is_fresh(Utc::now(), std::time::Duration::from_secs(60)));
/// assert_eq!(token.scopes().to_string(), "read write");
/// ```
#[derive(Clone)]
pub struct Token {
    access_token: AccessToken,
    /// `None`: `Bearer`, the common case, with no allocation; LWA's `bearer` is one
    /// buffer shared by every token. Not a `Cow`: a `TokenCache` holds one `Token` per
    /// subject and pays every inline byte.
    token_type: Option<Arc<str>>,
    expires_at: Option<DateTime<Utc>>,
    refresh_token: Option<RefreshToken>,
    scopes: GrantedScopes,
    issued_at: Option<DateTime<Utc>>,
    refresh_token_issued_at: Option<DateTime<Utc>>,
}

/// The scopes of a [`Token`]: a [`Scopes`] set, or the vendor's space-separated list,
/// split into one only when first read. Splitting costs an allocation per scope, a good
/// part of a token fetch's own overhead, for a list most callers never look at.
#[derive(Clone, Default)]
struct GrantedScopes {
    /// The vendor's list, when the token was built from one.
    list: Option<Box<str>>,
    /// The set: given, or parsed from `list` on first use. Boxed: most tokens never
    /// have theirs read, and an empty `OnceLock` costs its whole value inline.
    parsed: OnceLock<Box<Scopes<String>>>,
}

impl GrantedScopes {
    fn get(&self) -> &Scopes<String> {
        self.parsed.get_or_init(|| {
            Box::new(
                self.list
                    .as_deref()
                    .and_then(|list| list.parse().ok())
                    .unwrap_or_default(),
            )
        })
    }
}

impl Token {
    /// A bearer token that expires at `expires_at` (`None`: never, as for API keys).
    pub fn new(access_token: AccessToken, expires_at: Option<DateTime<Utc>>) -> Self {
        Self {
            access_token,
            token_type: None,
            expires_at,
            refresh_token: None,
            scopes: GrantedScopes::default(),
            issued_at: None,
            refresh_token_issued_at: None,
        }
    }

    /// Sets the refresh token that came with this token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: RefreshToken) -> Self {
        self.refresh_token = Some(refresh_token);
        self
    }

    /// Sets (or clears) the refresh token.
    #[must_use]
    pub fn with_refresh_token_opt(mut self, refresh_token: Option<RefreshToken>) -> Self {
        self.refresh_token = refresh_token;
        self
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: Scopes<String>) -> Self {
        self.scopes = GrantedScopes {
            list: None,
            parsed: OnceLock::from(Box::new(scopes)),
        };
        self
    }

    /// Sets the granted scopes from the vendor's space-separated list (RFC 6749 §3.3),
    /// split when [`scopes`](Self::scopes) is first called.
    #[must_use]
    pub(crate) fn with_scope_list(mut self, list: &str) -> Self {
        self.scopes = GrantedScopes {
            list: Some(list.into()),
            parsed: OnceLock::new(),
        };
        self
    }

    /// Sets the token type as the vendor named it (`Bearer`, `bearer`, `BearerToken`).
    #[must_use]
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        static LOWERCASE_BEARER: OnceLock<Arc<str>> = OnceLock::new();
        let token_type = token_type.into();
        self.token_type = match token_type.as_str() {
            "Bearer" => None,
            "bearer" => Some(Arc::clone(
                LOWERCASE_BEARER.get_or_init(|| Arc::from("bearer")),
            )),
            _ => Some(Arc::from(token_type)),
        };
        self
    }

    /// Sets the token type if the vendor sent one (keeps `Bearer` otherwise).
    #[must_use]
    pub fn with_token_type_opt(self, token_type: Option<String>) -> Self {
        match token_type {
            Some(token_type) => self.with_token_type(token_type),
            None => self,
        }
    }

    /// Sets when the token was issued (our send time of the request that got it).
    #[must_use]
    pub fn with_issued_at(mut self, issued_at: DateTime<Utc>) -> Self {
        self.issued_at = Some(issued_at);
        self
    }

    /// Sets when the refresh token was issued (by our clock). Vendors whose refresh
    /// tokens outlive many access tokens (Orange Connex: one year) keep it across
    /// refreshes that do not rotate, so users can alert before it lapses.
    #[must_use]
    pub fn with_refresh_token_issued_at(mut self, issued_at: DateTime<Utc>) -> Self {
        self.refresh_token_issued_at = Some(issued_at);
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The token type as the vendor sent it.
    pub fn token_type(&self) -> &str {
        self.token_type.as_deref().unwrap_or("Bearer")
    }

    /// When the token stops working, by our clock; `None` if it does not expire.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    /// The refresh token, if the grant returned one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The scopes granted, as the vendor reported them (empty if it did not say).
    pub fn scopes(&self) -> &Scopes<String> {
        self.scopes.get()
    }

    /// When the access token was issued, by our clock, if known.
    pub fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.issued_at
    }

    /// When the refresh token was issued, by our clock, if the grant tracks it.
    pub fn refresh_token_issued_at(&self) -> Option<DateTime<Utc>> {
        self.refresh_token_issued_at
    }

    /// Whether the token is still usable for at least `leeway` at `now`.
    pub fn is_fresh(&self, now: DateTime<Utc>, leeway: Duration) -> bool {
        match self.expires_at {
            None => true,
            Some(at) => match chrono::Duration::from_std(leeway) {
                Ok(leeway) => now.checked_add_signed(leeway).is_some_and(|t| t < at),
                Err(_) => false,
            },
        }
    }

    /// Time left until expiry at `now` (zero once expired, `None` if it never expires).
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.expires_at
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type())
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scopes", self.scopes())
            .field("issued_at", &self.issued_at)
            .field("refresh_token_issued_at", &self.refresh_token_issued_at)
            .finish()
    }
}

/// Computes when a token expires, by our clock.
///
/// The base is `sent_at` (the local time the request was *sent*, so the time the request
/// spent in flight only makes the token look shorter-lived) plus `expires_in`.
/// `server_expiry` is the vendor's own idea of the expiry (`created_at + expires_in`,
/// `issuedAt + expiresIn`, a JWT `exp`); it may only make the result **earlier**,
/// and only when `server_time` (the server-issued time it was derived from) is within
/// `max_skew` of `sent_at`. A server clock far off is ignored with a warning: trusting it
/// would make every token look expired and start a refresh storm.
///
/// Without `server_time`, `server_expiry` is ignored (skew cannot be told apart from a
/// short lifetime). Returns `None` when the vendor gave no lifetime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use auth_core::token::expiry;
/// use chrono::{DateTime, Utc};
///
/// let sent: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
/// // A Doorkeeper server reports a token created 100 s ago with 7200 s of lifetime.
/// let created = sent - chrono::Duration::seconds(100);
/// let at = expiry(sent, Some(Duration::from_secs(7200)), Some(created),
///                 Some(created + chrono::Duration::seconds(7200)), Duration::from_secs(300));
/// assert_eq!(at, Some(sent + chrono::Duration::seconds(7100)));
/// ```
pub fn expiry(
    sent_at: DateTime<Utc>,
    expires_in: Option<Duration>,
    server_time: Option<DateTime<Utc>>,
    server_expiry: Option<DateTime<Utc>>,
    max_skew: Duration,
) -> Option<DateTime<Utc>> {
    // An absurd lifetime (beyond chrono's range) means "no usable expiry", never a panic.
    let local = sent_at.checked_add_signed(chrono::Duration::from_std(expires_in?).ok()?)?;
    let Some(server_expiry) = server_expiry else {
        return Some(local);
    };
    // Without the server's own time there is no way to tell skew from a short lifetime.
    let Some(server_time) = server_time else {
        return Some(local);
    };
    let skew = (server_time - sent_at).abs();
    let trusted = chrono::Duration::from_std(max_skew)
        .map(|max| skew <= max)
        .unwrap_or(true);
    if trusted {
        Some(local.min(server_expiry))
    } else {
        tracing::warn!(
            skew_seconds = skew.num_seconds(),
            "server-issued time is far from the local clock; using local send time + expires_in"
        );
        Some(local)
    }
}

/// The longest access-token lifetime taken at face value (366 days): anything longer is
/// a vendor bug and would make a token look as if it never expired.
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// A vendor's stated `expires_in` (seconds, as a signed number: some send `-1` or `0`),
/// or `None` when it is absent or unusable (not positive, or above
/// [`MAX_ACCESS_TOKEN_LIFETIME`]), so that the vendor crate applies its documented
/// default. An unusable value is logged as a warning naming `vendor`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use auth_core::token::stated_lifetime;
///
/// assert_eq!(stated_lifetime(Some(3600), "amazon-sp"), Some(Duration::from_secs(3600)));
/// assert_eq!(stated_lifetime(Some(0), "amazon-sp"), None);
/// assert_eq!(stated_lifetime(Some(-1), "amazon-sp"), None);
/// assert_eq!(stated_lifetime(None, "amazon-sp"), None);
/// ```
pub fn stated_lifetime(expires_in: Option<i64>, vendor: &str) -> Option<Duration> {
    let seconds = expires_in?;
    match u64::try_from(seconds) {
        Ok(s) if s > 0 && s <= MAX_ACCESS_TOKEN_LIFETIME.as_secs() => Some(Duration::from_secs(s)),
        _ => {
            tracing::warn!(
                vendor,
                expires_in = seconds,
                "token response states an unusable expires_in; using the vendor's documented lifetime"
            );
            None
        }
    }
}

/// Seconds since the Unix epoch to a time (`None` when out of range).
pub fn from_unix_seconds(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

/// Milliseconds since the Unix epoch to a time (`None` when out of range).
pub fn from_unix_millis(millis: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
    const SKEW: Duration = DEFAULT_MAX_CLOCK_SKEW;

    #[test]
    fn the_token_type_is_kept_as_sent_and_the_usual_ones_cost_no_buffer_each() {
        let typed = |kind: &str| Token::new(AccessToken::new("a"), None).with_token_type(kind);
        assert_eq!(
            Token::new(AccessToken::new("a"), None).token_type(),
            "Bearer"
        );
        for kind in ["Bearer", "bearer", "BearerToken", "mac"] {
            assert_eq!(typed(kind).token_type(), kind);
        }
        assert!(typed("Bearer").token_type.is_none());
        let (one, two) = (typed("bearer"), typed("bearer"));
        assert!(Arc::ptr_eq(
            one.token_type.as_ref().unwrap(),
            two.token_type.as_ref().unwrap()
        ));
    }
    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_scope_list_is_split_when_first_read() {
        let token = Token::new(AccessToken::new("a"), None).with_scope_list(" rate  label rate ");
        assert!(token.scopes.parsed.get().is_none());
        let copy = token.clone();
        assert_eq!(token.scopes().to_string(), "rate label");
        assert_eq!(token.scopes().len(), 2);
        // A clone taken before the first read splits its own copy the same way.
        assert_eq!(copy.scopes().to_string(), "rate label");
        let debug = format!("{:?}", token.clone().with_scope_list("b a"));
        assert!(debug.contains(r#"scopes: ["b", "a"]"#), "{debug}");
        let replaced = token.with_scopes("x".parse().unwrap());
        assert_eq!(replaced.scopes().to_string(), "x");
        let bare = Token::new(AccessToken::new("a"), None);
        assert!(bare.scopes().is_empty());
    }

    #[test]
    fn expiry_is_send_time_plus_lifetime() {
        let clock = ManualClock::new(t("2026-03-01T12:00:00Z"));
        let sent = clock.now();
        clock.advance(Duration::from_secs(3)); // time in flight does not extend the token
        assert_eq!(
            expiry(sent, Some(HOUR), None, None, SKEW),
            Some(t("2026-03-01T13:00:00Z"))
        );
    }

    #[test]
    fn absurd_lifetime_does_not_panic() {
        let sent = t("2026-03-01T12:00:00Z");
        assert_eq!(
            expiry(
                sent,
                Some(Duration::from_secs(10_u64.pow(13))),
                None,
                None,
                SKEW
            ),
            None
        );
        assert_eq!(expiry(sent, Some(Duration::MAX), None, None, SKEW), None);
    }

    #[test]
    fn no_lifetime_means_no_expiry() {
        assert_eq!(
            expiry(t("2026-03-01T12:00:00Z"), None, None, None, SKEW),
            None
        );
    }

    #[test]
    fn server_time_earlier_than_ours_shortens_expiry() {
        let sent = t("2026-03-01T12:00:00Z");
        let created = sent - chrono::Duration::seconds(120);
        let server_expiry = created + chrono::Duration::seconds(3600);
        assert_eq!(
            expiry(sent, Some(HOUR), Some(created), Some(server_expiry), SKEW),
            Some(t("2026-03-01T12:58:00Z"))
        );
    }

    #[test]
    fn server_time_later_than_ours_never_extends_expiry() {
        let sent = t("2026-03-01T12:00:00Z");
        let created = sent + chrono::Duration::seconds(120);
        let server_expiry = created + chrono::Duration::seconds(3600);
        assert_eq!(
            expiry(sent, Some(HOUR), Some(created), Some(server_expiry), SKEW),
            Some(t("2026-03-01T13:00:00Z"))
        );
    }

    #[test]
    fn server_time_far_off_is_ignored() {
        let sent = t("2026-03-01T12:00:00Z");
        // A server clock two hours behind would make the token look expired on arrival.
        let created = sent - chrono::Duration::hours(2);
        let server_expiry = created + chrono::Duration::seconds(3600);
        assert_eq!(
            expiry(sent, Some(HOUR), Some(created), Some(server_expiry), SKEW),
            Some(t("2026-03-01T13:00:00Z"))
        );
        // Just inside the allowed skew it is trusted.
        let created = sent - chrono::Duration::seconds(300);
        assert_eq!(
            expiry(
                sent,
                Some(HOUR),
                Some(created),
                Some(created + chrono::Duration::seconds(3600)),
                SKEW
            ),
            Some(t("2026-03-01T12:55:00Z"))
        );
    }

    #[test]
    fn server_expiry_without_server_time_is_ignored() {
        let sent = t("2026-03-01T12:00:00Z");
        let early = sent + chrono::Duration::seconds(60);
        assert_eq!(
            expiry(sent, Some(HOUR), None, Some(early), SKEW),
            Some(t("2026-03-01T13:00:00Z"))
        );
    }

    #[test]
    fn freshness_honours_leeway() {
        let clock = ManualClock::new(t("2026-03-01T12:00:00Z"));
        let token = Token::new(AccessToken::new("a"), Some(t("2026-03-01T12:10:00Z")));
        assert!(token.is_fresh(clock.now(), Duration::from_secs(599)));
        assert!(!token.is_fresh(clock.now(), Duration::from_secs(600)));
        clock.advance(Duration::from_secs(600));
        assert!(!token.is_fresh(clock.now(), Duration::ZERO));
        assert_eq!(token.remaining(clock.now()), Some(Duration::ZERO));
        let forever = Token::new(AccessToken::new("a"), None);
        assert!(forever.is_fresh(clock.now(), Duration::from_secs(1 << 40)));
    }

    #[test]
    fn debug_hides_tokens() {
        let token = Token::new(AccessToken::new("sekrit-at"), None)
            .with_refresh_token(RefreshToken::new("sekrit-rt"));
        let dbg = format!("{token:?}");
        assert!(!dbg.contains("sekrit"), "{dbg}");
    }
}
