//! Credential newtypes that cannot be printed by accident, and the OAuth `state`.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Clones share one buffer (a seller's token held by both a provider and a store
        /// is one copy in memory); it is zeroized when the last clone is dropped.
        /// `Debug` prints `
        #[doc = stringify!($name)]
        /// ([REDACTED])`, and there is deliberately no `Display` and no `Serialize`:
        /// the only way to the value is [`expose_secret`](Self::expose_secret). It
        /// implements `Deserialize` (from a JSON string), so a vendor's wire types hold
        /// it directly.
        #[derive(Clone)]
        pub struct $name(Arc<SecretString>);

        impl $name {
            /// Wraps a value. The `String` passed in is zeroized after its bytes are
            /// copied into the secret's own exactly sized buffer.
            pub fn new(value: impl Into<String>) -> Self {
                let mut value: String = value.into();
                let secret = SecretString::from(value.as_str());
                zeroize::Zeroize::zeroize(&mut value);
                Self(Arc::new(secret))
            }

            /// Returns the secret value. Call it only where the value is put on the wire.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// Compares two secrets in constant time.
            pub fn ct_eq(&self, other: &Self) -> bool {
                constant_time_eq(self.expose_secret(), other.expose_secret())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Zeroized by `new` once copied.
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_type!(
    /// Any secret string: an API key, a password, an authorization code.
    Secret
);
secret_type!(
    /// An OAuth access token (what goes on an API request).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token. Some vendors (Easyship) make it single-use: losing the
    /// rotated one means the user must authorize the application again.
    RefreshToken
);
secret_type!(
    /// An OAuth client secret (or a vendor's API secret).
    ClientSecret
);

/// Compares two strings in constant time (for equal lengths).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// An OAuth client id. Not a secret: it is printed normally.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a client id.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The client id as sent to the vendor.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientId").field(&self.0).finish()
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ClientId {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for ClientId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// The random OAuth `state` sent on the browser step and checked on the redirect
/// (RFC 6749 §10.12, cross-site request forgery).
///
/// 32 bytes from the operating system's CSPRNG, URL-safe base64 without padding.
///
/// # Examples
///
/// ```
/// use auth_core::State;
///
/// let state = State::new();
/// assert!(state.verify(state.as_str()));
/// assert!(!state.verify("forged"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct State(String);

impl State {
    /// Generates a fresh random state.
    ///
    /// # Panics
    ///
    /// If the operating system has no random source (never on supported platforms).
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Restores a state saved between the browser step and the redirect (for example
    /// in the user's session).
    pub fn from_saved(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value to put in the authorization URL and keep in the user's session.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the `state` that came back on the redirect, in constant time.
    pub fn verify(&self, returned: &str) -> bool {
        constant_time_eq(&self.0, returned)
    }

    /// Like [`verify`](Self::verify), as a `Result` for use with `?`.
    ///
    /// # Errors
    ///
    /// [`AuthError::StateMismatch`](crate::AuthError::StateMismatch) when the values differ.
    pub fn check(&self, returned: &str) -> Result<(), crate::AuthError> {
        if self.verify(returned) {
            Ok(())
        } else {
            Err(crate::AuthError::StateMismatch)
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_for_every_secret_type() {
        assert_eq!(
            format!("{:?}", AccessToken::new("a")),
            "AccessToken([REDACTED])"
        );
        assert_eq!(
            format!("{:?}", RefreshToken::new("a")),
            "RefreshToken([REDACTED])"
        );
        assert_eq!(
            format!("{:?}", ClientSecret::new("a")),
            "ClientSecret([REDACTED])"
        );
        assert_eq!(format!("{:?}", Secret::new("a")), "Secret([REDACTED])");
        assert_eq!(format!("{:#?}", Secret::new("a")), "Secret([REDACTED])");
    }

    #[test]
    fn expose_secret_returns_the_value() {
        assert_eq!(AccessToken::new("x/y+z=").expose_secret(), "x/y+z=");
    }

    #[test]
    fn states_are_random_and_urlsafe() {
        let a = State::new();
        let b = State::new();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert!(a.verify(a.as_str()));
        assert!(!a.verify(b.as_str()));
        assert!(!a.verify(""));
        assert!(a.check(b.as_str()).is_err());
    }

    #[test]
    fn clones_share_one_buffer() {
        // A provider and its store each hold the token: one copy of the text between
        // them (issue 16's memory per subject).
        let token = AccessToken::new("Atza|shared");
        let clone = token.clone();
        assert_eq!(
            token.expose_secret().as_ptr(),
            clone.expose_secret().as_ptr()
        );
        assert_eq!(std::mem::size_of::<AccessToken>(), 8);
        drop(token);
        assert_eq!(clone.expose_secret(), "Atza|shared");
    }

    #[test]
    fn secret_equality_is_by_value() {
        assert!(RefreshToken::new("r1").ct_eq(&RefreshToken::new("r1")));
        assert!(!RefreshToken::new("r1").ct_eq(&RefreshToken::new("r2")));
    }
}
