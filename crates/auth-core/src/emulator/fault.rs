//! Faults injected into the next token responses, and the request counts.

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;

use super::Rejection;

/// A fault the emulator injects into the next token response
/// ([`Emulator::inject`](super::Emulator::inject)). API calls are not affected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status (a 5xx) and the vendor's error page; the request is not
    /// processed (nothing is spent).
    Status(StatusCode),
    /// Answer `429 Too Many Requests` with `Retry-After` (whole seconds, rounded up);
    /// the request is not processed.
    RateLimited {
        /// The `Retry-After` value.
        retry_after: Duration,
    },
    /// Process the request, then wait this long before answering (a client whose timeout
    /// is shorter loses the answer: a rotation it never sees).
    Delay(Duration),
    /// Process the request (a refresh token rotates), then drop the connection halfway
    /// through the answer: the vendor rotated, the client never learns the new token.
    LoseResponse,
    /// Revoke the grant presented (the seller's refresh token chain, or the code) and
    /// answer the vendor's `invalid_grant`.
    RevokeGrant,
    /// Answer `200` with a body that is not the vendor's JSON (cut short); the request
    /// is not processed.
    MalformedBody,
}

/// How many requests the emulator saw, by endpoint and grant: a snapshot
/// ([`Emulator::counts`](super::Emulator::counts)).
///
/// # Examples
///
/// ```
/// use auth_core::emulator::Counts;
///
/// let counts = Counts::default();
/// assert_eq!(counts.token(), 0);
/// assert_eq!(counts.grant("refresh_token"), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    by_key: BTreeMap<String, u64>,
}

impl Counts {
    pub(crate) fn add(&mut self, key: &str) {
        *self.by_key.entry(key.to_owned()).or_default() += 1;
    }

    fn get(&self, key: &str) -> u64 {
        self.by_key.get(key).copied().unwrap_or_default()
    }

    /// Token endpoint requests, all grants (and undecodable ones) together.
    pub fn token(&self) -> u64 {
        self.get("token")
    }

    /// Token endpoint requests for `grant_type` `grant` (`"refresh_token"`,
    /// `"authorization_code"`, `"client_credentials"`), faulted ones included.
    pub fn grant(&self, grant: &str) -> u64 {
        self.get(&format!("token:{grant}"))
    }

    /// Token endpoint requests answered with an error (faults included).
    pub fn token_errors(&self) -> u64 {
        self.get("token:error")
    }

    /// Token endpoint requests that met an injected fault.
    pub fn faults(&self) -> u64 {
        self.get("token:fault")
    }

    /// Browser-step requests (HTTP or [`Emulator::authorize`](super::Emulator::authorize)).
    pub fn authorize(&self) -> u64 {
        self.get("authorize")
    }

    /// API calls (the probe), accepted or not.
    pub fn api(&self) -> u64 {
        self.get("api")
    }

    /// API calls whose token was refused.
    pub fn api_rejected(&self) -> u64 {
        self.get("api:rejected")
    }

    /// API calls whose token was refused for `why`: a fleet test tells a token another
    /// process's refresh had already revoked from one handed out expired.
    pub fn api_rejected_as(&self, why: Rejection) -> u64 {
        self.get(&format!("api:rejected:{}", why.as_str()))
    }

    /// Every count by key (`token`, `token:<grant>`, `token:error`, `token:fault`,
    /// `authorize`, `api`, `api:rejected`, `api:rejected:<why>`).
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.by_key.iter().map(|(key, n)| (key.as_str(), *n))
    }
}
