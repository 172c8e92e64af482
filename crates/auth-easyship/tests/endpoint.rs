//! Where requests go: the generated environment and API family tables.

use auth_easyship::{ApiFamily, Endpoint, Environment, Generation};

#[test]
fn hosts_per_environment_and_family() {
    let p = Environment::Production;
    assert_eq!(
        p.api_base_url_for(ApiFamily::Public).as_str(),
        "https://public-api.easyship.com/"
    );
    assert_eq!(
        p.api_base_url_for(ApiFamily::Legacy).as_str(),
        "https://api.easyship.com/"
    );
    assert_eq!(
        Environment::Sandbox
            .api_base_url_for(ApiFamily::Legacy)
            .as_str(),
        "https://api-sandbox.easyship.com/"
    );
    assert_eq!(
        Endpoint::Partner.token_url_in(p),
        Some("https://api.easyship.com/oauth2/token")
    );
    assert_eq!(
        Endpoint::Enterprise.token_url_in(p),
        Some("https://enterprise-api.easyship.com/oauth2/token")
    );
    assert_eq!(
        p.authorize_url(),
        Some("https://auth.easyship.com/oauth2/authorize")
    );
    assert_eq!(Endpoint::Partner.token_url_in(Environment::Sandbox), None);
    assert_eq!(Environment::default(), p);
    assert_eq!(ApiFamily::Public.scope_generation(), Generation::Enhanced);
    assert_eq!(
        "sandbox".parse::<Environment>().unwrap(),
        Environment::Sandbox
    );
    let err = "staging".parse::<Environment>().unwrap_err().to_string();
    assert!(
        err.contains("expected one of: production, sandbox"),
        "{err}"
    );
}

#[test]
fn version_strings_map_to_families() {
    assert_eq!(ApiFamily::for_version("2024-08"), Some(ApiFamily::Legacy));
    assert_eq!(ApiFamily::for_version("2024-9"), None);
    assert_eq!(ApiFamily::for_version("abcd-ef"), None);
}
