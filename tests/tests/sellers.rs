//! Many sellers of one app, the same for every vendor with per-seller authorizations
//! (issue 16): auth-core's `SubjectTokens`, as Amazon's, Easyship's and Orange Connex's
//! `SellerTokens`, each against its vendor's emulator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::emulator::{Emulator, Fault, Vendor};
use auth_core::{
    AccessToken, AuthError, MemoryStore, RefreshToken, SubjectClient, SubjectTokensBuilder, Token,
    TokenStore,
};

const SELLERS: [&str; 3] = ["seller-a", "seller-b", "seller-c"];

/// What every vendor's sellers must get: each seller its own token, from its own refresh
/// token, once; an evicted seller back from the store without a token request; the
/// store's (rotated) refresh token used from then on, never the spent seed; a new
/// authorization installed without a request; the token on the API call.
async fn sellers_of_one_app<C: SubjectClient, V: Vendor>(
    builder: SubjectTokensBuilder<C>,
    client: C,
    emulator: &Emulator<V>,
    scope: Option<&str>,
    api_path: &str,
) {
    let seeds: HashMap<&str, String> = SELLERS
        .iter()
        .map(|seller| (*seller, emulator.issue_refresh_token(seller, scope)))
        .collect();
    let looked_up = Arc::new(Mutex::new(Vec::new()));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let sellers = builder
        .store(Arc::clone(&store))
        .capacity(2)
        .refresh_tokens({
            let (seeds, looked_up) = (seeds.clone(), Arc::clone(&looked_up));
            move |seller| {
                looked_up.lock().unwrap().push(seller.to_owned());
                seeds
                    .get(seller)
                    .map(|token| RefreshToken::new(token.clone()))
            }
        })
        .build()
        .unwrap();

    // Each seller's token is its own (the emulator says whose), one refresh each.
    let mut first = HashMap::new();
    for seller in SELLERS {
        let token = sellers.token(seller).await.unwrap();
        let owner = emulator
            .check_access_token(token.access_token().expose_secret())
            .unwrap();
        assert_eq!(owner.as_deref(), Some(seller));
        first.insert(seller, token);
    }
    assert_eq!(emulator.counts().grant("refresh_token"), 3);
    // Bounded: three sellers, room for two.
    assert!(sellers.len() <= 2, "{} providers held", sellers.len());

    // Every seller again, evicted or not: the same token, no request (an evicted one is
    // built again from the store, which holds its token).
    for seller in SELLERS {
        let again = sellers.token(seller).await.unwrap();
        assert!(again.access_token().ct_eq(first[seller].access_token()));
    }
    assert_eq!(emulator.counts().grant("refresh_token"), 3);
    assert!(
        looked_up.lock().unwrap().len() > SELLERS.len(),
        "no seller was evicted and built again: {:?}",
        looked_up.lock().unwrap()
    );

    // A refresh after the rebuild presents the stored refresh token: with single-use
    // rotation the seed is spent, and presenting it would be `invalid_grant`.
    for seller in SELLERS {
        let provider = sellers.provider(seller).unwrap();
        let refreshed = provider.force_refresh().await.unwrap();
        assert!(!refreshed.access_token().ct_eq(first[seller].access_token()));
        let stored = store
            .load(&client.store_key(seller))
            .await
            .unwrap()
            .unwrap();
        let stored_refresh = stored.token.refresh_token().unwrap().expose_secret();
        assert_eq!(
            emulator.live_refresh_tokens(seller),
            [stored_refresh.to_owned()],
            "the store holds {seller}'s live refresh token"
        );
    }
    assert_eq!(emulator.counts().grant("refresh_token"), 6);

    // Shutdown: `settle` returns once a running refresh has finished and been saved.
    emulator.inject(Fault::Delay(Duration::from_millis(300)));
    let provider = sellers.provider("seller-c").unwrap();
    let refreshing = tokio::spawn({
        let provider = provider.clone();
        async move { provider.force_refresh().await }
    });
    while !provider.status().refreshing {
        tokio::task::yield_now().await;
    }
    sellers.settle().await.unwrap();
    assert!(
        !provider.status().refreshing,
        "settled before the refresh ended"
    );
    let stored = store
        .load(&client.store_key("seller-c"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .token
            .access_token()
            .ct_eq(provider.cached().unwrap().access_token())
    );
    assert_eq!(
        emulator.live_refresh_tokens("seller-c"),
        [stored
            .token
            .refresh_token()
            .unwrap()
            .expose_secret()
            .to_owned()]
    );
    refreshing.await.unwrap().unwrap();
    assert_eq!(emulator.counts().grant("refresh_token"), 7);

    // A new authorization: installed and saved, handed out without a request.
    let authorized = Token::new(
        AccessToken::new("access-of-a-new-authorization"),
        Some(chrono::Utc::now() + chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new(
        emulator.issue_refresh_token("seller-new", scope),
    ));
    sellers
        .authorize("seller-new", authorized.clone())
        .await
        .unwrap();
    let token = sellers.token("seller-new").await.unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        "access-of-a-new-authorization"
    );
    let stored = store
        .load(&client.store_key("seller-new"))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.token.access_token().ct_eq(authorized.access_token()));
    assert_eq!(emulator.counts().grant("refresh_token"), 7);

    // The API call carries the seller's token, the vendor's way.
    let url = client.api_url(api_path).unwrap();
    let response = sellers
        .send("seller-b", client.http_client().get(url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Refused before anything is sent.
    assert!(matches!(
        sellers.token(" ").await,
        Err(AuthError::InvalidConfig(_))
    ));
    let without_refresh_token = Token::new(AccessToken::new("a"), None);
    assert!(matches!(
        sellers.authorize("seller-x", without_refresh_token).await,
        Err(AuthError::InvalidConfig(_))
    ));
    // No secret in what a log would print.
    let printed = format!("{sellers:?} {:?}", sellers.provider("seller-a").unwrap());
    for seed in seeds.values() {
        assert!(!printed.contains(seed.as_str()), "{printed}");
    }
    assert!(
        !printed.contains("access-of-a-new-authorization"),
        "{printed}"
    );
}

#[tokio::test]
async fn amazon_sellers() {
    let emulator = auth_amazon_sp::emulator::Emulator::start().await;
    let client = emulator.client_builder().build().unwrap();
    sellers_of_one_app(
        auth_amazon_sp::SellerTokens::builder(client.clone()),
        client,
        &emulator,
        None,
        "sellers/v1/marketplaceParticipations",
    )
    .await;
}

#[tokio::test]
async fn easyship_sellers() {
    let emulator = auth_easyship::emulator::Emulator::start().await;
    let client = emulator.client_builder().build().unwrap();
    sellers_of_one_app(
        auth_easyship::SellerTokens::builder(client.clone()),
        client,
        &emulator,
        Some("public.shipment:write"),
        "2024-09/account",
    )
    .await;
}

#[tokio::test]
async fn orangeconnex_sellers() {
    let emulator = auth_orangeconnex::emulator::Emulator::start().await;
    let client = emulator.client_builder().build().unwrap();
    sellers_of_one_app(
        auth_orangeconnex::SellerTokens::builder(client.clone()),
        client,
        &emulator,
        None,
        "3pp/sku/v3/creation",
    )
    .await;
}
