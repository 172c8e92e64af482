//! Pitney Bowes: client credentials (API key and secret), the token kept in a
//! store that a second provider (another process) reuses.

use auth_core::CachedTokenProvider;
use auth_pitneybowes::emulator::Emulator;
use auth_pitneybowes::{Client, VendorClient as _};

use super::{Outcome, Report, Row, Stores, call_api, expect_eq, failed, not_started};

const VENDOR: &str = "pitneybowes";

const CLIENT_CREDENTIALS: &str = "client credentials via the store, API call";

/// Every Pitney Bowes flow.
pub(super) async fn run(stores: &Stores) -> Vec<Row> {
    let emulator = match Emulator::builder().try_start().await {
        Ok(emulator) => emulator,
        Err(error) => return not_started(VENDOR, &error),
    };
    let emulator = &emulator;
    let mut report = Report::new(emulator, VENDOR);
    let credentials = client_credentials(emulator, stores);
    report.run(CLIENT_CREDENTIALS, credentials).await;
    report.into_rows()
}

/// A provider over the store gets the token and calls the API; a second provider on
/// the same store (another process) calls the API with the stored token, no request.
async fn client_credentials(emulator: &Emulator, stores: &Stores) -> Outcome {
    let client = emulator
        .client_builder()
        .build()
        .map_err(failed("the client"))?;
    let store = stores.store(VENDOR);
    let key = client.store_key(Client::APP_SUBJECT);
    let provider = |client: &Client| -> CachedTokenProvider {
        client
            .provider_builder()
            .store(store.clone(), key.clone())
            .build()
    };
    call_api(emulator, &provider(&client)).await?;
    call_api(emulator, &provider(&client)).await?;
    let counts = emulator.counts();
    expect_eq(
        "client credentials requests",
        counts.grant("client_credentials"),
        1,
    )?;
    expect_eq("API calls", counts.api(), 2)?;
    Ok("a second provider reuses the stored token".to_owned())
}
