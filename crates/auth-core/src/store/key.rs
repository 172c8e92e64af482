//! [`StoreKey`]: vendor, environment, client id and subject, with the app's three parts
//! held once per process.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

/// What a stored token belongs to: vendor, environment, client id and subject (the seller
/// or account). A sandbox token is never served in production because the environment is
/// part of the key.
///
/// Clones share the subject's buffer: a provider, its store's entry and its listener
/// registration hold one copy of the subject between them, and every key of one app (vendor,
/// environment, client id) shares one copy of those three parts: a process serving
/// 100,000 sellers of one app holds the client id once, not 100,000 times.
#[derive(Clone)]
pub struct StoreKey {
    app: Arc<AppParts>,
    subject: Arc<str>,
}

/// The vendor, environment and client id, one after the other.
struct AppParts {
    text: Box<str>,
    /// Where the environment and the client id start in `text`.
    starts: [u32; 2],
}

impl AppParts {
    fn parts(&self) -> [&str; 3] {
        let [environment, client_id] = self.starts.map(|start| start as usize);
        [
            &self.text[..environment],
            &self.text[environment..client_id],
            &self.text[client_id..],
        ]
    }

    /// The live copy of these parts if there is one, else a new one, kept weakly for the
    /// next key. A process has a handful of apps, so a list scanned when a key is built
    /// does; it is pruned of dropped ones as it is scanned.
    fn shared(vendor: &str, environment: &str, client_id: &str) -> Arc<Self> {
        static LIVE: Mutex<Vec<Weak<AppParts>>> = Mutex::new(Vec::new());
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = None;
        live.retain(|weak| match weak.upgrade() {
            Some(app) => {
                if found.is_none() && app.parts() == [vendor, environment, client_id] {
                    found = Some(app);
                }
                true
            }
            None => false,
        });
        found.unwrap_or_else(|| {
            let offset = |len: usize| u32::try_from(len).expect("store key parts under 4 GiB");
            let app = Arc::new(Self {
                text: [vendor, environment, client_id].concat().into_boxed_str(),
                starts: [
                    offset(vendor.len()),
                    offset(vendor.len() + environment.len()),
                ],
            });
            live.push(Arc::downgrade(&app));
            app
        })
    }
}

impl StoreKey {
    /// A key. Use an empty `subject` for app-level (client-credentials) tokens.
    ///
    /// # Panics
    ///
    /// If the vendor, environment and client id together are 4 GiB or longer.
    pub fn new(
        vendor: impl AsRef<str>,
        environment: impl AsRef<str>,
        client_id: impl AsRef<str>,
        subject: impl AsRef<str>,
    ) -> Self {
        Self {
            app: AppParts::shared(vendor.as_ref(), environment.as_ref(), client_id.as_ref()),
            subject: Arc::from(subject.as_ref()),
        }
    }

    fn parts(&self) -> [&str; 4] {
        let [vendor, environment, client_id] = self.app.parts();
        [vendor, environment, client_id, &self.subject]
    }

    /// The vendor part.
    pub fn vendor(&self) -> &str {
        self.app.parts()[0]
    }
    /// The environment part.
    pub fn environment(&self) -> &str {
        self.app.parts()[1]
    }
    /// The client id part.
    pub fn client_id(&self) -> &str {
        self.app.parts()[2]
    }
    /// The subject part (seller, account).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// A file-name-safe, unambiguous rendering: each part percent-encoded, joined by `.`.
    pub fn file_stem(&self) -> String {
        const SET: &percent_encoding::AsciiSet =
            &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_');
        self.parts()
            .iter()
            .map(|part| percent_encoding::utf8_percent_encode(part, SET).to_string())
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl PartialEq for StoreKey {
    fn eq(&self, other: &Self) -> bool {
        // Keys of one app share its parts (compared by pointer); two copies of equal
        // parts exist only if one was built after the other's last key was dropped.
        self.subject == other.subject
            && (Arc::ptr_eq(&self.app, &other.app) || self.app.parts() == other.app.parts())
    }
}

impl Eq for StoreKey {}

impl Hash for StoreKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl Ord for StoreKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl PartialOrd for StoreKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({self})")
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [vendor, environment, client_id, subject] = self.parts();
        write!(f, "{vendor}/{environment}/{client_id}/{subject}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn keys_of_one_app_share_its_parts_and_compare_by_all_four() {
        let a = StoreKey::new("easyship", "production", "client-1", "seller-a");
        let b = StoreKey::new("easyship", "production", "client-1", "seller-b");
        assert!(Arc::ptr_eq(&a.app, &b.app));
        assert_eq!(
            a.parts(),
            ["easyship", "production", "client-1", "seller-a"]
        );
        assert_eq!(
            (a.vendor(), a.environment(), a.client_id(), a.subject()),
            ("easyship", "production", "client-1", "seller-a")
        );
        assert_ne!(a, b);
        assert_eq!(
            a,
            StoreKey::new("easyship", "production", "client-1", "seller-a")
        );
        // Moving a boundary is another key, though the text is the same.
        let moved = StoreKey::new("easyship", "productionclient-", "1", "seller-a");
        assert_ne!(a, moved);
        assert!(!Arc::ptr_eq(&a.app, &moved.app));
        assert_ne!(
            a,
            StoreKey::new("easyship", "sandbox", "client-1", "seller-a")
        );
    }

    #[test]
    fn equal_keys_are_equal_and_hash_alike_across_copies_of_the_app_parts() {
        let first = StoreKey::new("amazon-sp", "na", "app-copy-test", "A1");
        let first_app = Arc::downgrade(&first.app);
        let text = first.to_string();
        drop(first);
        // The parts were dropped with their last key: this is a new copy.
        assert!(first_app.upgrade().is_none());
        let again = StoreKey::new("amazon-sp", "na", "app-copy-test", "A1");
        // A copy built beside a live one (as a lookup in another thread could):
        let other_copy = StoreKey {
            app: Arc::new(AppParts {
                text: "amazon-spnaapp-copy-test".into(),
                starts: [9, 11],
            }),
            subject: Arc::from("A1"),
        };
        assert!(!Arc::ptr_eq(&again.app, &other_copy.app));
        assert_eq!(again, other_copy);
        assert_eq!(again.to_string(), text);
        let set: HashSet<StoreKey> = [again.clone()].into();
        assert!(set.contains(&other_copy));
        assert_eq!(again.cmp(&other_copy), std::cmp::Ordering::Equal);
    }

    #[test]
    fn a_key_is_24_bytes_and_holds_its_subject_alone() {
        // Held by the provider, the store's entry and its listener registration: every
        // byte counts three times per subject.
        assert_eq!(std::mem::size_of::<StoreKey>(), 24);
    }
}
