//! Orange Connex scopes: the vendor has none.

use std::fmt;
use std::str::FromStr;

use auth_core::UnknownScope;

/// An Orange Connex OAuth scope.
///
/// Orange Connex documents no scopes: neither the authorize URL nor the token calls take
/// a `scope` parameter, and a token grants whatever the seller's authorization grants.
/// This type therefore has no values; it exists so that code written against every
/// vendor crate (`Scopes<auth_orangeconnex::Scope>`) still compiles, and it is
/// `#[non_exhaustive]` so scopes can be added if the vendor introduces them.
///
/// # Examples
///
/// ```
/// use auth_core::Scopes;
/// use auth_orangeconnex::Scope;
///
/// assert!("".parse::<Scopes<Scope>>().unwrap().is_empty());
/// assert!("read".parse::<Scopes<Scope>>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {}

impl auth_core::Scope for Scope {
    fn as_str(&self) -> &str {
        match *self {}
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    /// Always fails: Orange Connex has no scopes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Err(UnknownScope(s.to_owned()))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}
