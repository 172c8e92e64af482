//! How a token prints: the bare access token, a header line for curl, or JSON.
//!
//! Only the access token (and, with `--show-refresh-token`, the refresh token) is ever
//! written, and only to stdout, because the user asked for it.

use auth_core::{AuthScheme, Token};
use chrono::Utc;
use serde_json::{Value, json};

use crate::cli::Output;
use crate::error::CliError;

/// What the JSON says about where the token belongs.
pub(crate) struct Origin<'a> {
    pub(crate) vendor: &'a str,
    pub(crate) environment: String,
    /// The cache subject, when the token is cached.
    pub(crate) subject: Option<&'a str>,
}

/// Prints `token` to stdout as `output` asks.
pub(crate) fn print_token(
    token: &Token,
    scheme: &AuthScheme,
    origin: &Origin<'_>,
    output: Output,
) -> Result<(), CliError> {
    if output.header {
        println!("{}", header_line(scheme, token)?);
    } else if output.json {
        let value = token_json(token, origin, output.show_refresh_token);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else {
        println!("{}", token.access_token().expose_secret());
    }
    Ok(())
}

/// `Authorization: Bearer …`, `x-amz-access-token: …` or `Access-Token: …`: the header the
/// vendor's API expects ([`AuthScheme`]), ready for `curl -H`.
pub(crate) fn header_line(scheme: &AuthScheme, token: &Token) -> Result<String, CliError> {
    let (name, value) = scheme.header_value(token).map_err(|_| {
        CliError::Other("the vendor's access token is not a valid HTTP header value".into())
    })?;
    let value = value.to_str().map_err(|_| {
        CliError::Other("the vendor's access token is not a printable header value".into())
    })?;
    Ok(format!("{}: {value}", display_name(name.as_str())))
}

/// A header name as the vendor's documentation writes it: HTTP names are
/// case-insensitive and stored lowercase, so `authorization` prints `Authorization` and
/// `access-token` `Access-Token` (Orange Connex); Amazon writes `x-amz-access-token` in
/// lowercase, and so do we.
fn display_name(name: &str) -> String {
    if name.starts_with("x-amz-") {
        return name.to_owned();
    }
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The token as JSON; the refresh token only if `show_refresh_token`.
fn token_json(token: &Token, origin: &Origin<'_>, show_refresh_token: bool) -> Value {
    let now = Utc::now();
    let mut value = json!({
        "vendor": origin.vendor,
        "environment": origin.environment,
        "access_token": token.access_token().expose_secret(),
        "token_type": token.token_type(),
        "expires_at": token.expires_at().map(|t| t.to_rfc3339()),
        "expires_in": token.remaining(now).map(|d| d.as_secs()),
        "scopes": token.scopes().iter().map(String::as_str).collect::<Vec<_>>(),
    });
    if let Some(subject) = origin.subject {
        value["subject"] = json!(subject);
    }
    if show_refresh_token {
        value["refresh_token"] = json!(token.refresh_token().map(|r| r.expose_secret()));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{AccessToken, RefreshToken};

    fn token() -> Token {
        Token::new(
            AccessToken::new("at-1"),
            Some(Utc::now() + chrono::Duration::hours(1)),
        )
        .with_refresh_token(RefreshToken::new("rt-1"))
        .with_scopes("rate label".parse().unwrap())
    }

    #[test]
    fn header_lines_name_each_vendors_header() {
        let cases = [
            (AuthScheme::Bearer, "Authorization: Bearer at-1"),
            (
                AuthScheme::header("x-amz-access-token"),
                "x-amz-access-token: at-1",
            ),
            (AuthScheme::header("access-token"), "Access-Token: at-1"),
            (
                AuthScheme::header_with_prefix("access-token", "Bearer "),
                "Access-Token: Bearer at-1",
            ),
        ];
        for (scheme, line) in cases {
            assert_eq!(header_line(&scheme, &token()).unwrap(), line);
        }
    }

    #[test]
    fn json_holds_the_refresh_token_only_when_asked() {
        let origin = Origin {
            vendor: "easyship",
            environment: "production".into(),
            subject: None,
        };
        let hidden = token_json(&token(), &origin, false);
        assert!(hidden.get("refresh_token").is_none());
        assert_eq!(hidden["scopes"], json!(["rate", "label"]));
        assert_eq!(hidden["token_type"], "Bearer");
        let shown = token_json(&token(), &origin, true);
        assert_eq!(shown["refresh_token"], "rt-1");
    }
}
