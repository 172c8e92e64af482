//! Easyship: the authorization code, a chain of 20 single-use refresh tokens through a
//! store, a rotation whose answer is lost (and what follows), a new authorization,
//! client credentials, a 1,000-caller burst and a token the API refuses.

use std::sync::Arc;

use auth_core::{AuthError, Scopes, Token};
use auth_easyship::emulator::{Emulator, Fault};
use auth_easyship::{Client, Scope, VendorClient as _, parse_redirect};
use tokio::task::JoinSet;

use super::seller::{Rotates, Seller, first_use, refresh_chain, refresh_token_of};
use super::{Outcome, Report, Row, Stores, call_api, ensure, expect_eq, failed, not_started};

const VENDOR: &str = "easyship";
const SELLER: &str = auth_core::emulator::DEFAULT_SELLER;
const REDIRECT_URI: &str = "https://app.example.com/easyship/callback";
/// Rotations in the refresh chain.
const CHAIN: usize = 20;
/// Concurrent callers in the burst.
const CALLERS: usize = 1_000;

const AUTHORIZE: &str = "authorize, exchange code, API call";
const ROTATIONS: &str = "20 single-use refreshes via the store";
const LOST: &str = "refresh answer lost after rotating";
const DEAD: &str = "next refresh: invalid_grant, store dead";
const RECOVER: &str = "new authorization via replace_token";
const CLIENT_CREDENTIALS: &str = "client credentials, API call";
const BURST: &str = "1,000 callers on a cold provider";
const REFUSED: &str = "API refuses token: new one, one retry";

/// Every Easyship flow, in order (the chain's flows use the first flow's seller).
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
    let client = &client;
    let mut seller = None;
    let authorized = authorize_and_call(emulator, client, stores, &mut seller);
    report.run(AUTHORIZE, authorized).await;
    match &seller {
        Some(seller) => {
            let chain = refresh_chain(emulator, seller, CHAIN, Rotates::Yes);
            report.run(ROTATIONS, chain).await;
            report.run(LOST, lost_answer(emulator, seller)).await;
            report.run(DEAD, spent_refresh(emulator, seller)).await;
            report
                .run(RECOVER, reauthorize(emulator, client, seller))
                .await;
        }
        None => report.skip(&[ROTATIONS, LOST, DEAD, RECOVER], "the authorization"),
    }
    let credentials = client_credentials(emulator, client);
    report.run(CLIENT_CREDENTIALS, credentials).await;
    report.run(BURST, burst(emulator, client)).await;
    report.run(REFUSED, refused_token(emulator, client)).await;
    report.into_rows()
}

fn scopes() -> Scopes<Scope> {
    Scopes::from_iter([Scope::PublicShipmentWrite, Scope::PublicRateRead])
}

/// The browser step (the emulator plays the seller) and the code exchange.
async fn authorize(emulator: &Emulator, client: &Client) -> Result<Token, String> {
    let (url, state) = client
        .authorize_url(REDIRECT_URI, &scopes())
        .map_err(failed("authorize URL"))?;
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
    Ok("token saved in the store, then used".to_owned())
}

/// A refresh whose answer is cut after Easyship rotated: the provider cannot know
/// whether the refresh token was spent, and says so.
async fn lost_answer(emulator: &Emulator, seller: &Seller) -> Outcome {
    let before = seller.stored_refresh_token().await?;
    emulator.inject(Fault::LoseResponse);
    match seller.provider.force_refresh().await {
        Err(AuthError::OutcomeUnknown { .. }) => {}
        Err(other) => return Err(format!("expected OutcomeUnknown, got: {other}")),
        Ok(_) => return Err("the refresh succeeded although its answer was lost".to_owned()),
    }
    expect_eq("refreshes", emulator.counts().grant("refresh_token"), 1)?;
    ensure(
        emulator.live_refresh_tokens(SELLER) != [before.clone()],
        || "the emulator did not rotate the refresh token".to_owned(),
    )?;
    let record = seller.record().await?;
    ensure(
        refresh_token_of(&record.token)? == before && !record.refresh_token_dead,
        || "the store changed although no answer arrived".to_owned(),
    )?;
    Ok("OutcomeUnknown; Easyship had rotated".to_owned())
}

/// The next refresh presents the stored refresh token, which Easyship spent: the chain
/// is broken, the store says so, and no process presents it again.
async fn spent_refresh(emulator: &Emulator, seller: &Seller) -> Outcome {
    match seller.provider.force_refresh().await {
        Err(error) if error.is_invalid_grant() => {}
        Err(other) => return Err(format!("expected invalid_grant, got: {other}")),
        Ok(_) => return Err("the spent refresh token was accepted".to_owned()),
    }
    let record = seller.record().await?;
    ensure(record.refresh_token_dead, || {
        "the store does not mark the refresh token dead".to_owned()
    })?;
    ensure(seller.provider.status().reauthorization_required, || {
        "the provider does not say the seller must authorize again".to_owned()
    })?;
    // The access token still held was revoked by the lost rotation (Doorkeeper revokes
    // the previous one): the API refuses it, and the dead refresh token is not presented
    // again.
    match emulator.probe(&seller.provider).await {
        Err(error) if error.is_invalid_grant() => {}
        Err(other) => return Err(format!("API call: expected invalid_grant, got: {other}")),
        Ok(response) => {
            return Err(format!(
                "API call answered {}, expected invalid_grant",
                response.status()
            ));
        }
    }
    let counts = emulator.counts();
    expect_eq("token requests", counts.token(), 1)?;
    expect_eq("refused API calls", counts.api_rejected(), 1)?;
    Ok("store dead; API call: invalid_grant".to_owned())
}

/// The seller authorizes again; `replace_token` installs the new grant and the chain
/// goes on from it.
async fn reauthorize(emulator: &Emulator, client: &Client, seller: &Seller) -> Outcome {
    let token = authorize(emulator, client).await?;
    let fresh = refresh_token_of(&token)?;
    seller
        .provider
        .replace_token(token)
        .await
        .map_err(failed("replace_token"))?;
    call_api(emulator, &seller.provider).await?;
    let record = seller.record().await?;
    ensure(
        refresh_token_of(&record.token)? == fresh && !record.refresh_token_dead,
        || "the store does not hold the new authorization".to_owned(),
    )?;
    seller
        .provider
        .force_refresh()
        .await
        .map_err(failed("refresh after re-authorization"))?;
    expect_eq("refreshes", emulator.counts().grant("refresh_token"), 1)?;
    Ok("saved, used, refreshed again".to_owned())
}

async fn client_credentials(emulator: &Emulator, client: &Client) -> Outcome {
    let provider = client
        .client_credentials_provider(scopes())
        .map_err(failed("client credentials provider"))?;
    call_api(emulator, &provider).await?;
    expect_eq(
        "client credentials requests",
        emulator.counts().grant("client_credentials"),
        1,
    )?;
    Ok(String::new())
}

/// 1,000 tasks ask a provider with no token yet at once: one refresh serves them all (a
/// second one would present a spent refresh token).
async fn burst(emulator: &Emulator, client: &Client) -> Outcome {
    let refresh_token = emulator.issue_refresh_token(SELLER, Some(&scopes().to_string()));
    let provider = client.refresh_provider(refresh_token);
    let mut callers = JoinSet::new();
    for _ in 0..CALLERS {
        let provider = provider.clone();
        callers.spawn(async move { provider.token().await });
    }
    let mut tokens = Vec::with_capacity(CALLERS);
    while let Some(joined) = callers.join_next().await {
        let token = joined
            .map_err(|e| format!("a caller panicked: {e}"))?
            .map_err(failed("a caller's token"))?;
        tokens.push(token);
    }
    let first = tokens
        .first()
        .ok_or_else(|| "no caller returned".to_owned())?;
    ensure(tokens.iter().all(|t| Arc::ptr_eq(t, first)), || {
        "callers got different tokens".to_owned()
    })?;
    expect_eq("token requests", emulator.counts().token(), 1)?;
    Ok("one token request served them all".to_owned())
}

/// The API refuses a token the provider still thinks valid: `send` gets a new one and
/// sends the call once more.
async fn refused_token(emulator: &Emulator, client: &Client) -> Outcome {
    let refresh_token = emulator.issue_refresh_token(SELLER, Some(&scopes().to_string()));
    let provider = client.refresh_provider(refresh_token);
    provider.token().await.map_err(failed("first token"))?;
    emulator.revoke_access_tokens();
    call_api(emulator, &provider).await?;
    let counts = emulator.counts();
    expect_eq("refused API calls", counts.api_rejected(), 1)?;
    expect_eq("API calls", counts.api(), 2)?;
    expect_eq("refreshes", counts.grant("refresh_token"), 2)?;
    Ok("401 invalid_token, refreshed, retried once".to_owned())
}
