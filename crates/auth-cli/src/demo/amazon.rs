//! Amazon SP-API (Login with Amazon): the website authorization (consent, code
//! exchange), refreshes with a long-lived refresh token through the store, a lost
//! refresh answer (asked again: nothing was spent), and a grantless token.

use auth_amazon_sp::emulator::{Emulator, Fault};
use auth_amazon_sp::{
    AuthorizationRedirect, Client, ConsentRequest, Marketplace, Scope, VendorClient as _,
};
use auth_core::{Scopes, Token};

use super::seller::{Rotates, Seller, first_use, refresh_chain, refresh_token_of};
use super::{Outcome, Report, Row, Stores, call_api, ensure, expect_eq, failed, not_started};

const VENDOR: &str = "amazon-sp";
/// The selling partner who consents.
const SELLER: &str = "A2EUQ1WTGCTBG2";
const REDIRECT_URI: &str = "https://app.example.com/amazon/callback";
/// Refreshes in the chain: the refresh token never changes, a few show it.
const CHAIN: usize = 3;

const CONSENT: &str = "consent, exchange code, API call";
const REFRESHES: &str = "3 refreshes via the store";
const LOST: &str = "refresh answer lost: asked again";
const GRANTLESS: &str = "grantless, API call";

/// Every Amazon flow, in order (the refreshes use the consent flow's seller).
pub(super) async fn run(stores: &Stores) -> Vec<Row> {
    let started = Emulator::builder()
        .seller(SELLER)
        .redirect_uri(REDIRECT_URI)
        .try_start()
        .await;
    let emulator = match started {
        Ok(emulator) => emulator,
        Err(error) => return not_started(VENDOR, &error),
    };
    let emulator = &emulator;
    let mut report = Report::new(emulator, VENDOR);
    let client = match emulator.client_builder().build() {
        Ok(client) => client,
        Err(error) => {
            report.skip(&[CONSENT], &format!("the client ({error})"));
            return report.into_rows();
        }
    };
    let mut seller = None;
    let consented = consent_and_call(emulator, &client, stores, &mut seller);
    report.run(CONSENT, consented).await;
    match &seller {
        Some(seller) => {
            let chain = refresh_chain(emulator, seller, CHAIN, Rotates::No);
            report.run(REFRESHES, chain).await;
            report.run(LOST, lost_answer(emulator, seller)).await;
        }
        None => report.skip(&[REFRESHES, LOST], "the consent"),
    }
    report.run(GRANTLESS, grantless(emulator, &client)).await;
    report.into_rows()
}

/// The website workflow: the consent page (the emulator plays the seller), the redirect
/// with the selling partner id, the code exchange.
async fn consent(emulator: &Emulator, client: &Client) -> Result<Token, String> {
    let request =
        ConsentRequest::new(emulator.app().application_id(), Marketplace::UnitedStates).draft(true);
    let (url, state) = client
        .consent_url(&request)
        .map_err(failed("consent URL"))?;
    let redirect = emulator
        .authorize(&url)
        .map_err(|e| format!("consent page: {}", e.reason))?;
    let redirect =
        AuthorizationRedirect::from_url(&redirect, &state).map_err(failed("redirect"))?;
    expect_eq(
        "selling partner id",
        redirect.selling_partner_id(),
        Some(SELLER),
    )?;
    client
        .exchange_code(redirect.spapi_oauth_code().clone(), None)
        .await
        .map_err(failed("code exchange"))
}

async fn consent_and_call(
    emulator: &Emulator,
    client: &Client,
    stores: &Stores,
    seller: &mut Option<Seller>,
) -> Outcome {
    let token = consent(emulator, client).await?;
    let builder = client.refresh_provider_builder(refresh_token_of(&token)?);
    let store = stores.store(VENDOR);
    let key = client.store_key(SELLER);
    *seller = Some(first_use(emulator, builder, store, key, SELLER, token).await?);
    Ok("x-amz-access-token accepted".to_owned())
}

/// A refresh whose answer is cut: LWA refresh tokens are not single use, so nothing was
/// spent and the client asks again.
async fn lost_answer(emulator: &Emulator, seller: &Seller) -> Outcome {
    let before = seller.stored_refresh_token().await?;
    emulator.inject(Fault::LoseResponse);
    let token = seller
        .provider
        .force_refresh()
        .await
        .map_err(failed("refresh"))?;
    ensure(refresh_token_of(&token)? == before, || {
        "the refresh token changed".to_owned()
    })?;
    expect_eq("refreshes", emulator.counts().grant("refresh_token"), 2)?;
    call_api(emulator, &seller.provider).await?;
    Ok("resent, the refresh token was not spent".to_owned())
}

async fn grantless(emulator: &Emulator, client: &Client) -> Outcome {
    let provider = client
        .grantless_provider(Scopes::from_iter([Scope::Notifications]))
        .map_err(failed("grantless provider"))?;
    call_api(emulator, &provider).await?;
    expect_eq(
        "grantless requests",
        emulator.counts().grant("client_credentials"),
        1,
    )?;
    Ok(String::new())
}
