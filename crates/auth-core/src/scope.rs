//! OAuth scopes: the [`Scope`] trait each vendor implements and the [`Scopes`] set.

use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

use crate::AuthError;

/// One OAuth scope of a vendor.
///
/// Vendor crates implement it for a generated enum (so an unknown scope is a compile
/// error, or an [`AuthError::InvalidScope`] when parsed at run time). `String` implements
/// it too, for scopes as a server returned them.
pub trait Scope: Clone + Eq + Hash + fmt::Debug + FromStr + Send + Sync + 'static {
    /// The scope as it goes on the wire.
    fn as_str(&self) -> &str;

    /// Checks a whole set before any request is sent (for example Easyship's rule that
    /// two scope generations cannot be mixed). The default accepts every set.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] naming the offending scopes.
    fn validate(scopes: &Scopes<Self>) -> Result<(), AuthError> {
        let _ = scopes;
        Ok(())
    }
}

impl Scope for String {
    fn as_str(&self) -> &str {
        self
    }
}

/// A scope name that a vendor's `Scope` enum does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

/// A set of scopes: deduplicated, kept in insertion order, rendered space-separated
/// (RFC 6749 §3.3).
///
/// # Examples
///
/// ```
/// use auth_core::Scopes;
///
/// let scopes: Scopes<String> = "rate  label rate".parse().unwrap();
/// assert_eq!(scopes.to_string(), "rate label");
/// assert_eq!(scopes.len(), 2);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Scopes<S> {
    items: Vec<S>,
}

impl<S> Scopes<S> {
    /// An empty set.
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }

    /// Number of distinct scopes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The scopes in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, S> {
        self.items.iter()
    }
}

impl<S: Scope> Scopes<S> {
    /// Adds a scope unless it is already present. Returns whether it was added.
    pub fn insert(&mut self, scope: S) -> bool {
        if self.items.contains(&scope) {
            false
        } else {
            self.items.push(scope);
            true
        }
    }

    /// Builder-style [`insert`](Self::insert).
    #[must_use]
    pub fn with(mut self, scope: S) -> Self {
        self.insert(scope);
        self
    }

    /// Whether the set contains `scope`.
    pub fn contains(&self, scope: &S) -> bool {
        self.items.contains(scope)
    }

    /// Runs the vendor's [`Scope::validate`] check on this set.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] from the vendor's rule.
    pub fn validate(&self) -> Result<(), AuthError> {
        S::validate(self)
    }

    /// The same set as plain strings (what a [`Token`](crate::Token) holds).
    pub fn to_strings(&self) -> Scopes<String> {
        Scopes {
            items: self.items.iter().map(|s| s.as_str().to_owned()).collect(),
        }
    }
}

impl<S> Default for Scopes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scope> FromIterator<S> for Scopes<S> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Self::new();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

impl<S: Scope> Extend<S> for Scopes<S> {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        for scope in iter {
            self.insert(scope);
        }
    }
}

impl<S: Scope, const N: usize> From<[S; N]> for Scopes<S> {
    fn from(value: [S; N]) -> Self {
        value.into_iter().collect()
    }
}

impl<'a, S> IntoIterator for &'a Scopes<S> {
    type Item = &'a S;
    type IntoIter = std::slice::Iter<'a, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<S> IntoIterator for Scopes<S> {
    type Item = S;
    type IntoIter = std::vec::IntoIter<S>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<S: Scope> fmt::Display for Scopes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl<S: Scope> fmt::Debug for Scopes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.items.iter().map(Scope::as_str))
            .finish()
    }
}

impl<S: Scope> FromStr for Scopes<S> {
    type Err = AuthError;

    /// Parses a space-separated list (any run of ASCII whitespace separates). Every
    /// unknown name is reported at once.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // One allocation for the list, however long (a granted list is parsed on every
        // token fetch).
        let mut set = Self {
            items: Vec::with_capacity(s.split_ascii_whitespace().count()),
        };
        let mut unknown = Vec::new();
        for name in s.split_ascii_whitespace() {
            match name.parse::<S>() {
                Ok(scope) => {
                    set.insert(scope);
                }
                Err(_) => unknown.push(name.to_owned()),
            }
        }
        if unknown.is_empty() {
            Ok(set)
        } else {
            Err(AuthError::InvalidScope {
                scopes: unknown,
                reason: "unknown scope".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    enum Letter {
        A,
        B,
    }

    impl FromStr for Letter {
        type Err = UnknownScope;
        fn from_str(s: &str) -> Result<Self, Self::Err> {
            match s {
                "a" => Ok(Self::A),
                "b" => Ok(Self::B),
                other => Err(UnknownScope(other.into())),
            }
        }
    }

    impl Scope for Letter {
        fn as_str(&self) -> &str {
            match self {
                Self::A => "a",
                Self::B => "b",
            }
        }
        fn validate(scopes: &Scopes<Self>) -> Result<(), AuthError> {
            if scopes.len() > 1 {
                Err(AuthError::InvalidScope {
                    scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                    reason: "only one letter at a time".into(),
                })
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn parse_dedups_and_keeps_insertion_order() {
        let s: Scopes<Letter> = " b a\tb\n a ".parse().unwrap();
        assert_eq!(s.to_string(), "b a");
        assert_eq!(format!("{s:?}"), r#"["b", "a"]"#);
    }

    #[test]
    fn parse_reports_every_unknown_scope() {
        let err = "a x b y".parse::<Scopes<Letter>>().unwrap_err();
        match err {
            AuthError::InvalidScope { scopes, .. } => assert_eq!(scopes, ["x", "y"]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_string_is_empty_set() {
        let s: Scopes<String> = "".parse().unwrap();
        assert!(s.is_empty());
        assert_eq!(s.to_string(), "");
    }

    #[test]
    fn round_trips_through_display() {
        let s: Scopes<String> = "public.shipment:read public.label:write".parse().unwrap();
        assert_eq!(s.to_string().parse::<Scopes<String>>().unwrap(), s);
    }

    #[test]
    fn vendor_validation_hook_runs() {
        let one = Scopes::from([Letter::A]);
        assert!(one.validate().is_ok());
        let two = Scopes::from([Letter::A, Letter::B, Letter::A]);
        assert_eq!(two.len(), 2);
        assert!(matches!(
            two.validate(),
            Err(AuthError::InvalidScope { ref scopes, .. }) if scopes == &["a", "b"]
        ));
    }
}
