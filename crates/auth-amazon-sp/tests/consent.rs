//! The website authorization workflow: consent URL, redirect and state check, code exchange.

mod common;

use auth_amazon_sp::{AuthorizationRedirect, ConsentRequest, Marketplace, Portal};
use auth_core::{AuthError, OAuthErrorCode, State, Url};
use common::*;
use httpmock::prelude::*;

const APP_ID: &str = "amzn1.sp.solution.2f5b4c2a-1234-4bcd-9e8f-0123456789ab";

fn query_of(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn seller_central_consent_url_has_application_id_and_state_only() {
    let (url, state) = ConsentRequest::new(APP_ID, Marketplace::UnitedStates)
        .url()
        .unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "https://sellercentral.amazon.com/apps/authorize/consent?application_id={}&state={}",
            APP_ID,
            state.as_str()
        )
    );
}

#[test]
fn draft_vendor_central_url_with_redirect_uri() {
    let (url, state) = ConsentRequest::new(APP_ID, Marketplace::UnitedKingdom)
        .portal(Portal::VendorCentral)
        .draft(true)
        .redirect_uri(
            "https://app.example.com/amazon/callback?x=1"
                .parse()
                .unwrap(),
        )
        .url()
        .unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("vendorcentral.amazon.co.uk"));
    assert_eq!(url.path(), "/apps/authorize/consent");
    assert_eq!(
        query_of(&url),
        [
            ("application_id".to_owned(), APP_ID.to_owned()),
            ("state".to_owned(), state.as_str().to_owned()),
            ("version".to_owned(), "beta".to_owned()),
            (
                "redirect_uri".to_owned(),
                "https://app.example.com/amazon/callback?x=1".to_owned()
            ),
        ]
    );
    // The redirect URI is encoded once, as a query value.
    assert!(
        url.as_str()
            .contains("redirect_uri=https%3A%2F%2Fapp.example.com%2Famazon%2Fcallback%3Fx%3D1")
    );
}

#[test]
fn consent_hosts_per_marketplace_and_portal() {
    let cases = [
        (
            Marketplace::Canada,
            Portal::SellerCentral,
            "sellercentral.amazon.ca",
        ),
        (
            Marketplace::Germany,
            Portal::SellerCentral,
            "sellercentral-europe.amazon.com",
        ),
        (
            Marketplace::Germany,
            Portal::VendorCentral,
            "vendorcentral.amazon.de",
        ),
        (
            Marketplace::Netherlands,
            Portal::SellerCentral,
            "sellercentral.amazon.nl",
        ),
        (
            Marketplace::UnitedArabEmirates,
            Portal::VendorCentral,
            "vendorcentral.amazon.me",
        ),
        (
            Marketplace::India,
            Portal::SellerCentral,
            "sellercentral.amazon.in",
        ),
        (
            Marketplace::Japan,
            Portal::SellerCentral,
            "sellercentral.amazon.co.jp",
        ),
        (
            Marketplace::Japan,
            Portal::VendorCentral,
            "vendorcentral.amazon.co.jp",
        ),
        (
            Marketplace::Singapore,
            Portal::VendorCentral,
            "vendorcentral.amazon.com.sg",
        ),
        (
            Marketplace::Australia,
            Portal::SellerCentral,
            "sellercentral.amazon.com.au",
        ),
    ];
    for (marketplace, portal, host) in cases {
        let (url, _) = ConsentRequest::new(APP_ID, marketplace)
            .portal(portal)
            .url()
            .unwrap();
        assert_eq!(url.host_str(), Some(host), "{marketplace:?} {portal:?}");
    }
    for marketplace in Marketplace::ALL {
        assert!(
            ConsentRequest::new(APP_ID, *marketplace).url().is_ok(),
            "{marketplace:?}"
        );
    }
}

#[test]
fn unknown_host_empty_app_id_and_http_redirect_are_refused() {
    let no_host = ConsentRequest::new(APP_ID, Marketplace::Ireland)
        .portal(Portal::VendorCentral)
        .url();
    assert!(
        matches!(no_host, Err(AuthError::InvalidConfig(_))),
        "{no_host:?}"
    );
    assert!(matches!(
        ConsentRequest::new(" ", Marketplace::UnitedStates).url(),
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(matches!(
        ConsentRequest::new(APP_ID, Marketplace::UnitedStates)
            .redirect_uri("http://app.example.com/cb".parse().unwrap())
            .url(),
        Err(AuthError::InvalidConfig(_))
    ));
}

#[test]
fn each_consent_url_gets_a_fresh_state() {
    let request = ConsentRequest::new(APP_ID, Marketplace::UnitedStates);
    let (_, a) = request.url().unwrap();
    let (_, b) = request.url().unwrap();
    assert_ne!(a, b);
    assert!(a.as_str().len() >= 43);
}

#[test]
fn redirect_with_matching_state_yields_code_seller_and_mws_token() {
    let state = State::from_saved("st4te-from-session");
    let redirect = AuthorizationRedirect::from_url(
        &"https://app.example.com/cb?state=st4te-from-session&selling_partner_id=A3EXAMPLESELLER&mws_auth_token=amzn.mws.4ea38b7b-f563-7709-4bae-87aeaEXAMPLE&spapi_oauth_code=ANDLxeuaQfeUkCQnvEcS"
            .parse()
            .unwrap(),
        &state,
    )
    .unwrap();
    assert_eq!(redirect.selling_partner_id(), Some("A3EXAMPLESELLER"));
    assert_eq!(
        redirect.spapi_oauth_code().expose_secret(),
        "ANDLxeuaQfeUkCQnvEcS"
    );
    assert_eq!(
        redirect.mws_auth_token().unwrap().expose_secret(),
        "amzn.mws.4ea38b7b-f563-7709-4bae-87aeaEXAMPLE"
    );
    let dbg = format!("{redirect:?}");
    assert!(
        !dbg.contains("ANDLxeuaQfeUkCQnvEcS") && !dbg.contains("amzn.mws"),
        "{dbg}"
    );

    // No MWS token for SP-API-only applications.
    let redirect = AuthorizationRedirect::parse(
        "state=st4te-from-session&selling_partner_id=A3X&spapi_oauth_code=c0de",
        &state,
    )
    .unwrap();
    assert!(redirect.mws_auth_token().is_none());
}

#[test]
fn wrong_or_missing_state_is_a_mismatch_before_anything_else() {
    let state = State::from_saved("expected");
    for query in [
        "state=forged&spapi_oauth_code=c0de&selling_partner_id=A3X",
        "spapi_oauth_code=c0de&selling_partner_id=A3X",
        "state=&spapi_oauth_code=c0de",
        "state=expected2&spapi_oauth_code=c0de",
        // Even an error redirect is discarded when its state is wrong.
        "state=forged&error=access_denied",
    ] {
        assert!(
            matches!(
                AuthorizationRedirect::parse(query, &state),
                Err(AuthError::StateMismatch)
            ),
            "{query}"
        );
    }
}

#[test]
fn redirect_without_code_or_with_an_error_is_an_oauth_error() {
    let state = State::from_saved("s");
    let err = AuthorizationRedirect::parse("state=s&selling_partner_id=A3X", &state).unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::OAuth {
                code: OAuthErrorCode::InvalidRequest,
                ..
            }
        ),
        "{err:?}"
    );
    let err = AuthorizationRedirect::parse(
        "state=s&error=access_denied&error_description=Seller+declined",
        &state,
    )
    .unwrap_err();
    match err {
        AuthError::OAuth {
            code, description, ..
        } => {
            assert_eq!(code, OAuthErrorCode::AccessDenied);
            assert_eq!(description.as_deref(), Some("Seller declined"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn whole_workflow_against_an_emulated_amazon() {
    let server = MockServer::start_async().await;
    let exchange = server
        .mock_async(|when, then| {
            when.method(POST).path("/auth/o2/token").body(form(&[
                ("grant_type", "authorization_code"),
                ("code", "ANcodeFromRedirect"),
                ("redirect_uri", "https://app.example.com/cb"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ]));
            then.status(200).json_body(token_body());
        })
        .await;
    let client = client(&server);
    let request = ConsentRequest::new(APP_ID, Marketplace::UnitedStates)
        .redirect_uri("https://app.example.com/cb".parse().unwrap());
    let (url, state) = client.consent_url(&request).unwrap();
    assert_eq!(
        url.origin(),
        server.base_url().parse::<Url>().unwrap().origin()
    );
    assert_eq!(url.path(), "/apps/authorize/consent");

    // What Amazon would send back after the seller consented.
    let returned = query_of(&url)
        .into_iter()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1;
    let callback =
        format!("state={returned}&selling_partner_id=A3SELLER&spapi_oauth_code=ANcodeFromRedirect");
    let redirect = AuthorizationRedirect::parse(&callback, &state).unwrap();
    let token = client
        .exchange_code(
            redirect.spapi_oauth_code().clone(),
            Some("https://app.example.com/cb"),
        )
        .await
        .unwrap();
    exchange.assert_calls_async(1).await;
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
}
