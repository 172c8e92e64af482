//! The Pitney Bowes [`Scope`] type.
//!
//! The token request takes no scope (the API key decides what the token may do) and
//! Pitney Bowes publishes no scope list, so there is nothing to generate: a scope is the
//! text a token response reports, such as `psapi` in the RFC 6749 shape.

use std::fmt;
use std::str::FromStr;

use auth_core::UnknownScope;

/// A scope as a Pitney Bowes token response reports it (`"scope": "psapi"`).
///
/// Any single word is accepted; an empty string or one with whitespace is not a scope.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::Scope;
/// use auth_core::Scopes;
///
/// let scopes: Scopes<Scope> = "psapi".parse().unwrap();
/// assert!(scopes.contains(&Scope::new("psapi").unwrap()));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    /// `psapi`, the scope the newer token bodies report.
    pub fn psapi() -> Self {
        Self("psapi".to_owned())
    }

    /// A scope named `name`.
    ///
    /// # Errors
    ///
    /// [`UnknownScope`] if `name` is empty or contains whitespace.
    pub fn new(name: impl Into<String>) -> Result<Self, UnknownScope> {
        let name = name.into();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            Err(UnknownScope(name))
        } else {
            Ok(Self(name))
        }
    }

    /// The scope as on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl auth_core::Scope for Scope {
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scope").field(&self.0).finish()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_scopes_and_blanks_are_not() {
        assert_eq!(Scope::new("psapi").unwrap(), Scope::psapi());
        assert_eq!(Scope::psapi().to_string(), "psapi");
        assert!(Scope::new("").is_err());
        assert!(Scope::new("a b").is_err());
        assert!("a\tb".parse::<Scope>().is_err());
    }
}
