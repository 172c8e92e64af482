//! One file per vendor: its options, its client from them, and which grant `token` runs.
//! What they share is in `crate::token` (the provider run) and here.

pub(crate) mod amazon;
pub(crate) mod easyship;
pub(crate) mod orangeconnex;
pub(crate) mod pitneybowes;

use auth_core::{State, Url};
use serde_json::json;

use crate::cli::Connection;
use crate::error::CliError;

/// Applies `--token-url` and `--base-url` to a vendor's client builder (every vendor
/// builder has both, with the same meaning).
macro_rules! with_urls {
    ($builder:expr, $connection:expr) => {{
        let mut builder = $builder;
        if let Some(url) = &$connection.token_url {
            builder = builder.token_url(url.as_str());
        }
        if let Some(url) = &$connection.base_url {
            builder = builder.base_url(url.as_str());
        }
        builder
    }};
}
pub(crate) use with_urls;

/// `--subject`, or `default` (a seller's token).
pub(crate) fn seller_subject(connection: &Connection) -> String {
    connection
        .subject
        .clone()
        .unwrap_or_else(|| crate::cache::DEFAULT_SUBJECT.to_owned())
}

/// `--subject`, or `app` plus the scopes (an application token).
pub(crate) fn app_subject(connection: &Connection, scopes: Option<&str>) -> String {
    connection
        .subject
        .clone()
        .unwrap_or_else(|| crate::cache::app_subject(scopes))
}

/// The usage error of a refresh grant without a refresh token anywhere.
pub(crate) fn no_refresh_token(vendor: &str, alternative: &str) -> CliError {
    CliError::usage(format!(
        "no refresh token: give --refresh-token (or AUTHTOKEN_REFRESH_TOKEN){alternative}, or \
         --cache DIR seeded by `authtoken {vendor} exchange-code --cache DIR`"
    ))
}

/// Prints an authorize (consent) URL and its state: the URL on the first line, then
/// `state: …`; or both as JSON.
pub(crate) fn print_authorize(url: &Url, state: &State, json: bool) {
    if json {
        println!(
            "{}",
            json!({ "url": url.as_str(), "state": state.as_str() })
        );
    } else {
        println!("{url}");
        println!("state: {}", state.as_str());
    }
}
