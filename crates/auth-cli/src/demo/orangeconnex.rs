//! Orange Connex: the authorization code (a code holding `%2F`), then refresh tokens
//! rotated on every refresh through the store, with `Access-Token` on API calls.

use auth_core::Token;
use auth_orangeconnex::emulator::Emulator;
use auth_orangeconnex::{Client, VendorClient as _, parse_redirect};

use super::seller::{Rotates, Seller, first_use, refresh_chain, refresh_token_of};
use super::{Outcome, Report, Row, Stores, failed, not_started};

const VENDOR: &str = "orangeconnex";
const SELLER: &str = auth_core::emulator::DEFAULT_SELLER;
const REDIRECT_URI: &str = "https://app.example.com/oc/callback";
/// Rotations in the chain.
const CHAIN: usize = 3;

const AUTHORIZE: &str = "authorize, exchange code, API call";
const REFRESHES: &str = "3 rotating refreshes via the store";

/// Every Orange Connex flow, in order (the refreshes use the first flow's seller).
pub(super) async fn run(stores: &Stores) -> Vec<Row> {
    let emulator = match Emulator::builder().try_start().await {
        Ok(emulator) => emulator,
        Err(error) => return not_started(VENDOR, &error),
    };
    let emulator = &emulator;
    let mut report = Report::new(emulator, VENDOR);
    let client = match emulator.client_builder().build() {
        Ok(client) => client,
        Err(error) => {
            report.skip(&[AUTHORIZE], &format!("the client ({error})"));
            return report.into_rows();
        }
    };
    let mut seller = None;
    let authorized = authorize_and_call(emulator, &client, stores, &mut seller);
    report.run(AUTHORIZE, authorized).await;
    match &seller {
        Some(seller) => {
            let chain = refresh_chain(emulator, seller, CHAIN, Rotates::Yes);
            report.run(REFRESHES, chain).await;
        }
        None => report.skip(&[REFRESHES], "the authorization"),
    }
    report.into_rows()
}

/// The browser step (the emulator plays the seller) and the code exchange.
async fn authorize(emulator: &Emulator, client: &Client) -> Result<Token, String> {
    let (url, state) = client.authorize_url(REDIRECT_URI);
    let redirect = emulator
        .authorize(&url)
        .map_err(|e| format!("browser step: {}", e.reason))?;
    let code = parse_redirect(&redirect, &state).map_err(failed("redirect"))?;
    client
        .exchange_code(code, REDIRECT_URI)
        .await
        .map_err(failed("code exchange"))
}

async fn authorize_and_call(
    emulator: &Emulator,
    client: &Client,
    stores: &Stores,
    seller: &mut Option<Seller>,
) -> Outcome {
    let token = authorize(emulator, client).await?;
    let builder = client.refresh_provider_builder(refresh_token_of(&token)?);
    let store = stores.store(VENDOR);
    let key = client.store_key(SELLER);
    *seller = Some(first_use(emulator, builder, store, key, SELLER, token).await?);
    Ok("Access-Token accepted".to_owned())
}
