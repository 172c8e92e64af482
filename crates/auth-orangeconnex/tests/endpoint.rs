//! Environments and the URLs derived from them (generated from `spec/environments.toml`).

use auth_orangeconnex::{Endpoints, Environment};

#[test]
fn documented_hosts_are_official() {
    assert_eq!(
        Environment::Production.base_url().as_str(),
        "https://openapi-hk.orangeconnex.com/"
    );
    assert_eq!(
        Environment::Stage.base_url().as_str(),
        "https://openapi-stage-hk.orangeconnex.com/"
    );
    assert!(Environment::Production.is_official() && !Environment::Production.is_sandbox());
    assert!(Environment::Stage.is_official() && Environment::Stage.is_sandbox());
    assert!(!Environment::StageCn.is_official());
    assert!(!Environment::Uk.is_official());
    assert_eq!(Environment::default(), Environment::Production);
}

#[test]
fn every_environment_has_https_urls_and_round_trips() {
    for &env in Environment::ALL {
        assert_eq!(env.token_url().scheme(), "https");
        assert_eq!(env.token_url().path(), "/oauth/token");
        assert_eq!(env.authorize_url().path(), "/oauth/authorize");
        assert_eq!(env.api_base_url().path(), "/openapi/");
        assert_eq!(env.as_str().parse::<Environment>().unwrap(), env);
        assert_eq!(env.to_string(), env.as_str());
    }
    let err = "moon".parse::<Environment>().unwrap_err().to_string();
    assert!(err.contains("production, stage, stage-cn, uk"), "{err}");
}

#[test]
fn endpoints_keep_the_base_path() {
    let e = Endpoints::under(&"http://127.0.0.1:8080/oc".parse().unwrap()).unwrap();
    assert_eq!(e.token_url.as_str(), "http://127.0.0.1:8080/oc/oauth/token");
    assert_eq!(
        e.authorize_url.as_str(),
        "http://127.0.0.1:8080/oc/oauth/authorize"
    );
    assert_eq!(e.api_base_url.as_str(), "http://127.0.0.1:8080/oc/openapi/");
    let e = Endpoints::of(Environment::Production);
    assert_eq!(
        e.token_url.as_str(),
        "https://openapi-hk.orangeconnex.com/oauth/token"
    );
    assert!(Endpoints::under(&"https://h.example/?a=b".parse().unwrap()).is_err());
    assert!(Endpoints::under(&"mailto:x@y".parse().unwrap()).is_err());
}
