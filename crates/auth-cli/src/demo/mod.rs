//! `authtoken demo`: every grant flow of every vendor, through the SDK as a user writes
//! it, against the vendor crates' local emulators (no network, no credentials).
//!
//! One file per vendor holds its flows, `seller.rs` what the seller grants share, and
//! `table.rs` the report. Each flow runs against its vendor's emulator with the
//! emulator's counts reset, checks what the emulator and the SDK say happened, and
//! becomes one row. Tokens are emulator tokens, and still no
//! token is ever printed: the rows hold counts and the demo's own words.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::emulator::{Emulator, Vendor};
use auth_core::{AuthError, CachedTokenProvider, FileStore, TokenStore};
use auth_store_redis::RedisStore;

use crate::cache::StoreSpec;
use crate::error::CliError;

mod amazon;
mod easyship;
mod orangeconnex;
mod pitneybowes;
mod seller;
mod table;

use table::Row;

/// `authtoken demo`'s options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Keep the demo's tokens in this store instead of a temporary directory: file:DIR,
    /// or `redis://HOST[:PORT][/DB]` to run every flow through a RedisStore (keys under
    /// `authtoken-demo:<run>:`, emulator tokens only)
    #[arg(long, env = "AUTHTOKEN_STORE", hide_env_values = true, value_name = "STORE", value_parser = StoreSpec::parse)]
    store: Option<StoreSpec>,
}

/// What a flow returns: `Ok(a note on what happened, or "")`, or `Err(why it did not do
/// what it should)`.
type Outcome = Result<String, String>;

/// Runs every flow, prints the table, and fails (exit 1) unless every flow did what it
/// should.
pub(crate) async fn run(args: &Args) -> Result<(), CliError> {
    let temporary;
    let stores = match &args.store {
        None => {
            temporary = tempfile::tempdir().map_err(|e| {
                CliError::Other(format!("cannot create a temporary directory: {e}"))
            })?;
            Stores::Files(temporary.path().to_owned())
        }
        Some(StoreSpec::File(dir)) => Stores::Files(dir.clone()),
        Some(spec @ StoreSpec::Redis { url, .. }) => {
            // A prefix of its own per run: flows start from an empty store, and two demos
            // on one Redis do not meet.
            let prefix = format!("authtoken-demo:{:016x}:", rand_run_id());
            let store = RedisStore::builder(url.as_str())
                .key_prefix(prefix)
                .connect()
                .await
                .map_err(|e| CliError::Other(format!("cannot use the store {spec}: {e}")))?;
            Stores::Redis(Arc::new(store))
        }
    };
    println!("store: {}\n", stores.describe());
    let started = Instant::now();
    let mut rows = Vec::new();
    rows.extend(easyship::run(&stores).await);
    rows.extend(amazon::run(&stores).await);
    rows.extend(pitneybowes::run(&stores).await);
    rows.extend(orangeconnex::run(&stores).await);
    print!("{}", table::render(&rows));
    let summary = verdict(&rows)?;
    println!(
        "\n{summary}, in {} ms, offline",
        started.elapsed().as_millis()
    );
    Ok(())
}

/// `Ok(a summary)` if every flow did what it should, the error that exits 1 otherwise.
fn verdict(rows: &[Row]) -> Result<String, CliError> {
    let failed = rows.iter().filter(|row| !row.ok()).count();
    if failed == 0 && !rows.is_empty() {
        Ok(format!("all {} flows did what they should", rows.len()))
    } else {
        Err(CliError::Other(format!(
            "{failed} of {} demo flows did not do what they should (see FAILED above)",
            rows.len()
        )))
    }
}

/// Where the demo keeps its tokens.
pub(crate) enum Stores {
    /// A `FileStore` per vendor, in a directory each under this one.
    Files(PathBuf),
    /// One `RedisStore` (its keys name the vendor).
    Redis(Arc<RedisStore>),
}

impl Stores {
    /// The store for `vendor`'s flows.
    fn store(&self, vendor: &str) -> Arc<dyn TokenStore> {
        match self {
            Self::Files(dir) => Arc::new(FileStore::new(dir.join(vendor))),
            Self::Redis(store) => Arc::clone(store) as Arc<dyn TokenStore>,
        }
    }

    /// What the report's first line says.
    fn describe(&self) -> String {
        match self {
            Self::Files(dir) => format!("FileStore in {}", dir.display()),
            Self::Redis(store) => format!("RedisStore, keys under {}", store.key_prefix()),
        }
    }
}

/// A number unlikely to repeat between runs: the clock's nanoseconds and the process id.
fn rand_run_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// One vendor's rows, each flow run against the vendor's emulator.
struct Report<'e, V: Vendor> {
    emulator: &'e Emulator<V>,
    vendor: &'static str,
    rows: Vec<Row>,
}

impl<'e, V: Vendor> Report<'e, V> {
    fn new(emulator: &'e Emulator<V>, vendor: &'static str) -> Self {
        Self {
            emulator,
            vendor,
            rows: Vec::new(),
        }
    }

    /// Runs `flow` with the emulator's counts reset, timing it, as row `name`.
    async fn run(&mut self, name: &'static str, flow: impl Future<Output = Outcome>) {
        self.emulator.reset_counts();
        let started = Instant::now();
        let outcome = flow.await;
        let time = started.elapsed();
        self.rows.push(Row {
            vendor: self.vendor,
            flow: name,
            requests: table::requests(&self.emulator.counts()),
            outcome,
            time,
        });
    }

    /// Rows for flows that could not run because `because` failed.
    fn skip(&mut self, names: &[&'static str], because: &str) {
        for name in names {
            self.rows.push(Row {
                vendor: self.vendor,
                flow: name,
                requests: "none".to_owned(),
                outcome: Err(format!("not run: {because} failed")),
                time: Duration::ZERO,
            });
        }
    }

    fn into_rows(self) -> Vec<Row> {
        self.rows
    }
}

/// The row of a vendor whose emulator could not start (no port on `127.0.0.1`).
fn not_started(vendor: &'static str, error: &std::io::Error) -> Vec<Row> {
    vec![Row {
        vendor,
        flow: "start the emulator",
        requests: "none".to_owned(),
        outcome: Err(format!("cannot listen on 127.0.0.1: {error}")),
        time: Duration::ZERO,
    }]
}

/// `Err(reason)` unless `condition` holds.
fn ensure(condition: bool, reason: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(reason()) }
}

/// `Err` naming `what` unless `got == want`.
fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    ensure(got == want, || {
        format!("{what}: expected {want:?}, the emulator saw {got:?}")
    })
}

/// Maps an SDK error to a failure reason, naming the step (`AuthError`'s text never
/// holds a secret).
fn failed(step: &'static str) -> impl Fn(AuthError) -> String {
    move |error| format!("{step}: {error}")
}

/// Calls the emulator's API probe through `provider.send`, as a user's API call does,
/// and expects `200`.
async fn call_api<V: Vendor>(
    emulator: &Emulator<V>,
    provider: &CachedTokenProvider,
) -> Result<(), String> {
    let response = emulator.probe(provider).await.map_err(failed("API call"))?;
    ensure(response.status() == 200, || {
        format!("API call answered {}", response.status())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(outcome: Outcome) -> Row {
        Row {
            vendor: "easyship",
            flow: "client credentials, API call",
            requests: "token 1, api 1".to_owned(),
            outcome,
            time: Duration::ZERO,
        }
    }

    #[test]
    fn one_failed_flow_fails_the_demo_with_exit_1() {
        let rows = [row(Ok(String::new())), row(Err("no token".to_owned()))];
        let error = verdict(&rows).unwrap_err();
        assert_eq!(error.exit_code(), std::process::ExitCode::from(1));
        assert!(error.to_string().contains("1 of 2 demo flows"), "{error}");
        assert!(verdict(&rows[..1]).is_ok());
    }
}
