//! Turning response bodies into error text that can never carry a secret.

use std::sync::OnceLock;

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

/// The most of an error body an [`AuthError`](crate::AuthError) quotes.
pub const MAX_EXCERPT_BYTES: usize = 512;

const REDACTED: &str = "[REDACTED]";

/// JSON keys whose values are always removed from excerpts, whatever they hold.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "token",
    "password",
    "secret",
    "api_secret",
    "restrictedDataToken",
    "accessToken",
    "refreshToken",
];

/// The secrets one request carries, so that an error body echoing any of them can be
/// quoted safely.
///
/// Each secret is removed in its plain form, percent-encoded (both `%20` and `+` for
/// spaces), and in standard base64 (with and without padding); pairs added with
/// [`add_basic_pair`](Self::add_basic_pair) are also removed as `base64(key:secret)`.
///
/// Registering a secret only keeps a copy of it (zeroized on drop): the encoded forms are
/// computed the first time a body is scrubbed, and then kept. A request that succeeds,
/// the common case, never needs them, so building a redactor costs one small copy per
/// secret.
#[derive(Default, Clone)]
pub struct Redactor {
    /// The registered secrets, in the order added, without duplicates.
    secrets: Vec<Zeroizing<String>>,
    /// Every form of every secret, longest first: computed on the first scrub, reset by
    /// every [`add`](Self::add).
    needles: OnceLock<Vec<Zeroizing<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor that knows no secret yet (JSON secret keys are still removed).
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value.
    pub fn add(&mut self, secret: &str) {
        // Very short values would blank out ordinary words; no real credential is this short.
        if secret.len() < 4 {
            return;
        }
        if self.secrets.iter().any(|s| s.as_str() == secret) {
            return;
        }
        self.secrets.push(Zeroizing::new(secret.to_owned()));
        // Forms computed before this secret was known would miss it.
        self.needles = OnceLock::new();
    }

    /// Registers a `user:password` pair as sent in HTTP Basic authentication, plus each half.
    pub fn add_basic_pair(&mut self, user: &str, password: &str) {
        self.add(user);
        self.add(password);
        self.add(&Zeroizing::new(format!("{user}:{password}")));
    }

    /// Every form of every registered secret, longest first, so that a secret's encoded
    /// form is not half-replaced by a shorter one. Computed once.
    fn needles(&self) -> &[Zeroizing<String>] {
        self.needles.get_or_init(|| {
            let mut needles: Vec<Zeroizing<String>> = Vec::new();
            for secret in &self.secrets {
                for form in forms(secret) {
                    if !form.is_empty() && !needles.contains(&form) {
                        needles.push(form);
                    }
                }
            }
            // Stable: forms of equal length keep the order they were registered in.
            needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
            needles
        })
    }

    /// Removes every registered secret from `text` and, if `text` is JSON, the values of
    /// keys that always hold secrets (`access_token`, `refresh_token`, `client_secret`...).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut value) if value.is_object() || value.is_array() => {
                blank_secret_keys(&mut value);
                value.to_string()
            }
            _ => text.to_owned(),
        };
        for needle in self.needles() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }

    /// Quotes an error body: secret JSON keys blanked, registered secrets removed, cut to
    /// [`MAX_EXCERPT_BYTES`] at a character boundary.
    pub fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let scrubbed = self.scrub(text.trim());
        truncate(&scrubbed, MAX_EXCERPT_BYTES)
    }
}

/// The forms in which `secret` may come back in a body: plain, percent-encoded by the
/// common encoders (upper- and lower-case hex), form-encoded, escaped inside a JSON string,
/// and base64 with and without padding. May hold duplicates and empty strings.
fn forms(secret: &str) -> [Zeroizing<String>; 14] {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_nopad = base64::engine::general_purpose::STANDARD_NO_PAD;
    let upper = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    // RFC 3986 encoders leave the unreserved marks alone (JS encodeURIComponent also
    // `!'()*`, Python's quote also `/`); some emit lower-case hex.
    let rfc3986 = utf8_percent_encode(secret, RFC3986_UNRESERVED).to_string();
    let js = utf8_percent_encode(secret, JS_COMPONENT).to_string();
    let python = utf8_percent_encode(secret, PYTHON_QUOTE).to_string();
    let json = json_escaped(secret);
    // JSON writers that escape `/` (PHP, some Java ones).
    let json_slash = json.replace('/', "\\/");
    [
        secret.to_owned(),
        lower_hex(&upper),
        lower_hex(&rfc3986),
        lower_hex(&js),
        lower_hex(&python),
        upper,
        rfc3986,
        js,
        python,
        form_encode(secret),
        json,
        json_slash,
        b64.encode(secret),
        b64_nopad.encode(secret),
    ]
    .map(Zeroizing::new)
}

const RFC3986_UNRESERVED: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const JS_COMPONENT: &percent_encoding::AsciiSet = &RFC3986_UNRESERVED
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');
const PYTHON_QUOTE: &percent_encoding::AsciiSet = &RFC3986_UNRESERVED.remove(b'/');

/// `%2F` -> `%2f`: the same encoding with lower-case hex digits.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

/// The secret as it appears inside a JSON string (excerpts re-serialize JSON bodies, so a
/// `"` or `\\` in a secret is escaped there).
fn json_escaped(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

fn form_encode(secret: &str) -> String {
    url::form_urlencoded::byte_serialize(secret.as_bytes()).collect()
}

fn blank_secret_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) && !value.is_null() {
                    *value = serde_json::Value::String(REDACTED.into());
                } else {
                    blank_secret_keys(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(blank_secret_keys),
        _ => {}
    }
}

/// Cuts `text` to [`MAX_EXCERPT_BYTES`] at a character boundary (an ellipsis marks a cut).
/// Use it on vendor text already passed through [`Redactor::scrub`].
pub fn truncate_excerpt(text: &str) -> String {
    truncate(text, MAX_EXCERPT_BYTES)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Describes a body without quoting any value: for 2xx bodies that failed to parse, which
/// may well hold a valid token.
///
/// A JSON object becomes its keys and value types (`{access_token: string, expires_in:
/// string}`); anything else becomes its kind and length.
pub fn describe_shape(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", truncate(k, 64), json_type(v)))
                .collect();
            format!("a JSON object {{{}}}", fields.join(", "))
        }
        Ok(other) => format!("a JSON {}", json_type(&other)),
        Err(_) if body.is_empty() => "an empty body".to_owned(),
        Err(_) => format!("a non-JSON body of {} bytes", body.len()),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// A stable, non-secret name for a secret: `key-` and the 64-bit FNV-1a hash of `value`
/// in 16 hex digits. For telling API keys apart in `Debug` output and store keys without
/// showing them. Stable forever (it names stored tokens), and not a security boundary:
/// a short secret could be found from it by trying values, so use it for keys and
/// identifiers, never to publish a password.
///
/// # Examples
///
/// ```
/// let name = auth_core::redact::fingerprint("my-api-key");
/// assert!(name.starts_with("key-") && name.len() == 20);
/// assert_eq!(name, auth_core::redact::fingerprint("my-api-key"));
/// ```
pub fn fingerprint(value: &str) -> String {
    format!("key-{:016x}", fnv1a(value.as_bytes()))
}

/// 64-bit FNV-1a: a fixed, fast hash for values that must never change between
/// versions (store keys) or runs (refresh jitter).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_plain_encoded_and_base64_forms() {
        let mut r = Redactor::new();
        r.add("s3cr3t/+=x y");
        r.add_basic_pair("key1", "pa:ss");
        let body = format!(
            "a s3cr3t/+=x y b {} c {} d {} e {}",
            utf8_percent_encode("s3cr3t/+=x y", NON_ALPHANUMERIC),
            form_encode("s3cr3t/+=x y"),
            base64::engine::general_purpose::STANDARD.encode("key1:pa:ss"),
            base64::engine::general_purpose::STANDARD.encode("s3cr3t/+=x y"),
        );
        let out = r.excerpt(body.as_bytes());
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("a2V5MTpwYTpzcw"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 5, "{out}");
    }

    #[test]
    fn a_lazily_built_redactor_still_scrubs_every_form() {
        let secret = "s3cr3t/+=x y!'()*~\"\\é";
        let mut r = Redactor::new();
        r.add(secret);
        r.add_basic_pair("key1", "pa:ss");
        // Registering computes nothing: the forms wait for the first scrub.
        assert!(r.needles.get().is_none());
        let every_form: Vec<String> = forms(secret)
            .into_iter()
            .chain(forms("key1:pa:ss"))
            .map(|f| f.to_string())
            .collect();
        for form in &every_form {
            let out = r.excerpt(format!("before {form} after").as_bytes());
            assert_eq!(out, "before [REDACTED] after", "form {form:?}");
        }
        assert!(r.needles.get().is_some());
        // The encoders the forms stand for, checked independently.
        let b64 = base64::engine::general_purpose::STANDARD;
        for encoded in [
            utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
            form_encode(secret),
            b64.encode(secret),
            b64.encode("key1:pa:ss"),
        ] {
            assert!(every_form.contains(&encoded), "{encoded}");
        }
    }

    #[test]
    fn a_secret_added_after_a_scrub_is_scrubbed_too() {
        let mut r = Redactor::new();
        r.add("first-secret");
        assert_eq!(r.scrub("first-secret"), REDACTED);
        let before = r.clone();
        r.add("second-secret");
        let b64 = base64::engine::general_purpose::STANDARD.encode("second-secret");
        assert_eq!(
            r.scrub(&format!("first-secret second-secret {b64}")),
            "[REDACTED] [REDACTED] [REDACTED]"
        );
        // A clone taken before keeps its own secrets only.
        assert_eq!(before.scrub("second-secret"), "second-secret");
        // Short values are still ignored, and duplicates are kept once.
        r.add("abc");
        r.add("first-secret");
        assert_eq!(r.secrets.len(), 2);
        assert_eq!(format!("{r:?}"), "Redactor { secrets: 2 }");
    }

    #[test]
    fn removes_secrets_escaped_inside_json_strings() {
        let mut r = Redactor::new();
        r.add(r#"se"cr\et"#);
        let out = r.excerpt(br#"{"error":"bad","error_description":"client se\"cr\\et rejected"}"#);
        assert_eq!(
            out,
            r#"{"error":"bad","error_description":"client [REDACTED] rejected"}"#
        );
    }

    #[test]
    fn blanks_secret_json_keys_even_when_unknown() {
        let out = Redactor::new().excerpt(
            br#"{"error":"invalid_grant","refresh_token":"never-registered","nested":{"access_token":"x"}}"#,
        );
        assert!(!out.contains("never-registered"), "{out}");
        assert!(out.contains("invalid_grant"), "{out}");
    }

    #[test]
    fn cuts_to_512_bytes_on_a_char_boundary() {
        let body = "é".repeat(600);
        let out = Redactor::new().excerpt(body.as_bytes());
        assert!(out.len() <= MAX_EXCERPT_BYTES + '…'.len_utf8());
        assert!(out.ends_with('…'));
    }

    #[test]
    fn shape_never_quotes_values() {
        let shape = describe_shape(br#"{"access_token":"tok-123","expires_in":"x","n":null}"#);
        assert_eq!(
            shape,
            "a JSON object {access_token: string, expires_in: string, n: null}"
        );
        assert_eq!(describe_shape(b"tok-123"), "a non-JSON body of 7 bytes");
        assert_eq!(describe_shape(b""), "an empty body");
        assert_eq!(describe_shape(b"[1]"), "a JSON array");
    }
}
