//! `authtoken status --cache DIR`: what the cache holds, never a secret.
//!
//! A [`FileStore`] keeps one `<key>.json` per [`StoreKey`], the file stem being
//! [`StoreKey::file_stem`]: the four parts (vendor, environment, client id, subject), each
//! percent-encoded, joined by `.`. This command lists the `*.json` files, decodes each
//! stem back into its key and reads the record with [`FileStore::load`] (the same reader
//! as the providers', so a record it cannot parse is set aside as `*.corrupt-*`, as a
//! provider would). From a record it prints only the key, the expiry, the scopes, whether
//! a refresh token is held (not the token), whether the seller must authorize again, and
//! the store version.

use std::path::{Path, PathBuf};

use auth_core::{FileStore, StoreKey, TokenRecord, TokenStore as _};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::CliError;

/// `status` options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The cache directory (as given to the vendor commands' --cache)
    #[arg(long, env = "AUTHTOKEN_CACHE", value_name = "DIR")]
    cache: PathBuf,
    /// Print the entries as JSON
    #[arg(long)]
    json: bool,
}

/// One cached token, described without its secrets.
struct Entry {
    key: StoreKey,
    record: Option<TokenRecord>,
}

/// Runs `authtoken status`.
pub(crate) async fn run(args: &Args) -> Result<(), CliError> {
    let dir = &args.cache;
    let keys = keys_in(dir)?;
    let store = FileStore::new(dir);
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        let record = store
            .load(&key)
            .await
            .map_err(|e| CliError::Other(format!("cannot read the cache entry {key}: {e}")))?;
        entries.push(Entry { key, record });
    }
    let now = Utc::now();
    if args.json {
        let list: Vec<Value> = entries.iter().map(|e| entry_json(e, now)).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if entries.is_empty() {
        println!("no tokens cached in {}", dir.display());
    } else {
        print_table(&entries, now);
    }
    Ok(())
}

/// The keys of the records in `dir`, sorted.
fn keys_in(dir: &Path) -> Result<Vec<StoreKey>, CliError> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        CliError::Other(format!(
            "cannot read the cache directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut keys = Vec::new();
    for entry in read.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Temporary files of a save in progress start with a dot.
        if name.starts_with('.') {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".json") {
            match key_of(stem) {
                Some(key) => keys.push(key),
                None => eprintln!("warning: {name} is not a token record name; skipped"),
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// The [`StoreKey`] whose [`StoreKey::file_stem`] is `stem`. The parts are
/// percent-encoded with everything but ASCII letters, digits, `-` and `_` escaped, so
/// `.` only ever separates them.
fn key_of(stem: &str) -> Option<StoreKey> {
    let parts = stem
        .split('.')
        .map(|part| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        })
        .collect::<Option<Vec<_>>>()?;
    let [vendor, environment, client_id, subject] = <[String; 4]>::try_from(parts).ok()?;
    let key = StoreKey::new(vendor, environment, client_id, subject);
    // Only a stem this key renders to exactly (no other file that happens to decode).
    (key.file_stem() == stem).then_some(key)
}

/// `fresh, 1h 59m left`, `expired 3m ago`, or `no expiry`.
fn expiry_text(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match expires_at {
        None => "no expiry".to_owned(),
        Some(at) if at > now => format!("fresh, {} left", span(at - now)),
        Some(at) => format!("expired {} ago", span(now - at)),
    }
}

fn span(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// The subject as shown: an application token's empty subject is `(app)`.
fn subject_text(key: &StoreKey) -> &str {
    match key.subject() {
        "" => "(app)",
        subject => subject,
    }
}

fn print_table(entries: &[Entry], now: DateTime<Utc>) {
    let header = [
        "VENDOR",
        "ENVIRONMENT",
        "CLIENT ID",
        "SUBJECT",
        "EXPIRES",
        "REFRESH TOKEN",
        "REAUTHORIZE",
        "VERSION",
    ];
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|entry| {
            let key = &entry.key;
            let (expiry, refresh, reauthorize, version) = match &entry.record {
                Some(record) => (
                    expiry_text(record.token.expires_at(), now),
                    if record.token.refresh_token().is_some() {
                        "held"
                    } else {
                        "none"
                    },
                    if record.refresh_token_dead {
                        "yes"
                    } else {
                        "no"
                    },
                    record.version.to_string(),
                ),
                None => ("(unreadable)".to_owned(), "-", "-", "-".to_owned()),
            };
            [
                key.vendor().to_owned(),
                key.environment().to_owned(),
                key.client_id().to_owned(),
                subject_text(key).to_owned(),
                expiry,
                refresh.to_owned(),
                reauthorize.to_owned(),
                version,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(&header));
    for row in &rows {
        println!("{}", line(&row.each_ref().map(String::as_str)));
    }
}

fn entry_json(entry: &Entry, now: DateTime<Utc>) -> Value {
    let key = &entry.key;
    let mut value = json!({
        "vendor": key.vendor(),
        "environment": key.environment(),
        "client_id": key.client_id(),
        "subject": key.subject(),
    });
    if let Some(record) = &entry.record {
        let token = &record.token;
        value["expires_at"] = json!(token.expires_at().map(|t| t.to_rfc3339()));
        value["fresh"] = json!(token.expires_at().is_none_or(|at| at > now));
        value["scopes"] = json!(
            token
                .scopes()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        value["token_type"] = json!(token.token_type());
        value["has_refresh_token"] = json!(token.refresh_token().is_some());
        value["reauthorization_required"] = json!(record.refresh_token_dead);
        value["version"] = json!(record.version);
        value["updated_at"] = json!(record.updated_at.to_rfc3339());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_map_back_to_their_keys() {
        let keys = [
            StoreKey::new("easyship", "production", "client/1", "seller 7"),
            StoreKey::new(
                "amazon-sp",
                "sandbox@127.0.0.1:8080",
                "amzn1.app",
                "app:a b",
            ),
            StoreKey::new("pitneybowes", "sandbox", "key", ""),
        ];
        for key in keys {
            assert_eq!(key_of(&key.file_stem()), Some(key));
        }
        assert_eq!(key_of("not-a-record"), None);
        assert_eq!(key_of("a.b.c.d.e"), None);
    }

    #[test]
    fn expiry_reads_as_time_left_or_ago() {
        let now = Utc::now();
        assert_eq!(
            expiry_text(Some(now + chrono::TimeDelta::seconds(7140)), now),
            "fresh, 1h 59m left"
        );
        assert_eq!(
            expiry_text(Some(now - chrono::TimeDelta::seconds(180)), now),
            "expired 3m 0s ago"
        );
        assert_eq!(expiry_text(None, now), "no expiry");
    }
}
