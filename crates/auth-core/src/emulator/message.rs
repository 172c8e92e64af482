//! What an emulator receives ([`Request`]) and answers ([`Response`]): plain data, so a
//! vendor model decodes and encodes its wire formats without touching the server.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use serde_json::{Map, Value};

/// One HTTP request as the emulator received it, body read whole.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Request {
    /// A request (for a vendor model's own tests, and [`Emulator::authorize`]).
    ///
    /// [`Emulator::authorize`]: crate::emulator::Emulator::authorize
    pub fn new(method: Method, path_and_query: &str, headers: HeaderMap, body: Bytes) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        Self {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, still percent-encoded (`/oauth/token`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string without `?`, if any.
    pub fn raw_query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A header's value, if present once and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    }

    /// The query string decoded into pairs, in order (`+` is a space, as in forms).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        decode_pairs(self.query.as_deref().unwrap_or("").as_bytes())
    }

    /// The one value of query parameter `name`; `None` when absent or repeated.
    pub fn query_param(&self, name: &str) -> Option<String> {
        single(self.query_pairs(), name)
    }

    /// Whether the `Content-Type` is `mime` (parameters such as `charset` ignored, case
    /// insensitive).
    pub fn content_type_is(&self, mime: &str) -> bool {
        self.header(header::CONTENT_TYPE.as_str())
            .and_then(|value| value.split(';').next())
            .is_some_and(|value| value.trim().eq_ignore_ascii_case(mime))
    }

    /// The body as `application/x-www-form-urlencoded` pairs, if it is declared as such.
    pub fn form(&self) -> Option<Vec<(String, String)>> {
        self.content_type_is("application/x-www-form-urlencoded")
            .then(|| decode_pairs(&self.body))
    }

    /// The body as a JSON object, if it is declared `application/json` and is one.
    pub fn json_object(&self) -> Option<Map<String, Value>> {
        if !self.content_type_is("application/json") {
            return None;
        }
        match serde_json::from_slice(&self.body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The user and password of `Authorization: Basic` (RFC 7617), if well formed.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header(header::AUTHORIZATION.as_str())?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }

    /// The token of `Authorization: Bearer <token>`, if present.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header(header::AUTHORIZATION.as_str())?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|token| !token.is_empty())
    }
}

/// The one value of `name` among `pairs`; `None` when absent or repeated.
pub fn single(pairs: Vec<(String, String)>, name: &str) -> Option<String> {
    let mut found = pairs.into_iter().filter(|(key, _)| key == name);
    let (_, value) = found.next()?;
    found.next().is_none().then_some(value)
}

fn decode_pairs(input: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(input)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// How a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Sent whole.
    Whole,
    /// The headers and half the body, then the connection is dropped: the client sees a
    /// response cut short.
    Cut,
}

/// An HTTP response of the emulator.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) ending: Ending,
    pub(crate) delay: Option<Duration>,
}

impl Response {
    /// An empty response with `status`.
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            ending: Ending::Whole,
            delay: None,
        }
    }

    /// `body` as `application/json`.
    pub fn json(status: StatusCode, body: &Value) -> Self {
        Self::bytes(status, "application/json", body.to_string())
    }

    /// `body` with `content_type`.
    pub fn bytes(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let mut response = Self::empty(status);
        response.body = body.into();
        response
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }

    /// A `302 Found` to `location` (the browser step's redirect).
    pub fn redirect(location: &url::Url) -> Self {
        let mut response = Self::empty(StatusCode::FOUND);
        if let Ok(value) = HeaderValue::from_str(location.as_str()) {
            response.headers.insert(header::LOCATION, value);
        }
        response
    }

    /// This response with header `name: value` added (an invalid value is left out).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.append(name, value);
        }
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON, if it is JSON (for tests of a vendor model).
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, content_type: &str, body: &str) -> Request {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic a2V5OnNlOmNyZXQ="),
        );
        Request::new(
            Method::POST,
            &format!("/oauth/token{query}"),
            headers,
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn query_form_json_and_basic_are_decoded() {
        let r = request(
            "?a=1&b=x%2By+z&a=2",
            "application/x-www-form-urlencoded;charset=UTF-8",
            "grant_type=client_credentials&scope=a+b",
        );
        assert_eq!(r.path(), "/oauth/token");
        assert_eq!(r.query_param("b").as_deref(), Some("x+y z"));
        assert_eq!(r.query_param("a"), None, "repeated");
        assert_eq!(single(r.form().unwrap(), "scope").as_deref(), Some("a b"));
        assert!(r.json_object().is_none());
        assert_eq!(
            r.basic_auth(),
            Some(("key".to_owned(), "se:cret".to_owned()))
        );
        let j = request("", "application/json", r#"{"grant_type":"x"}"#);
        assert_eq!(j.json_object().unwrap()["grant_type"], "x");
        assert!(j.form().is_none());
    }
}
