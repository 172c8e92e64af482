//! [`Client`]: one method per Login with Amazon grant, the consent URL, the Tokens API's
//! Restricted Data Token, and the vendor contract ([`VendorClient`]) every vendor crate's
//! client implements.

use std::fmt;
use std::sync::Arc;

use auth_core::http::{RawResponse, TokenHttpClient, TokenRequest, show_url, store_environment};
use auth_core::reqwest::header::HeaderName;
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, AuthScheme, ClientId, ClientSecret, OAuthErrorCode, RefreshToken,
    RejectedTokenCheck, Scopes, Secret, State, StoreKey, Token, Url,
};

use crate::builder::{BodyFormat, ClientBuilder};
use crate::consent::ConsentRequest;
use crate::credentials::{Credentials, CredentialsProvider};
use crate::endpoint::{Environment, RDT_PATH, Region};
use crate::error::{self, VENDOR};
use crate::scope::Scope;
use crate::wire::{
    CreateRestrictedDataTokenRequest, CreateRestrictedDataTokenResponse, TokenRequestBody,
    TokenResponse,
};

/// The header SP-API calls carry the access token (or an RDT) in.
pub(crate) const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";

/// A Login with Amazon client for one SP-API application.
///
/// Cheap to clone (one `Arc`); `Send + Sync`; `Debug` shows no secret. The vendor contract
/// (token URL, SP-API base URL, auth scheme, rejected-token check, store key, API HTTP
/// client) is its [`VendorClient`] implementation; bring the trait into scope to call
/// those methods.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, Environment, Region, VendorClient};
///
/// let client = Client::builder()
///     .client_id("amzn1.application-oa2-client.example")
///     .client_secret("amzn1.oa2-cs.v1.example")
///     .region(Region::Europe)
///     .environment(Environment::Sandbox)
///     .build()
///     .unwrap();
/// assert_eq!(client.api_base_url().as_str(), "https://sandbox.sellingpartnerapi-eu.amazon.com/");
/// assert!(!format!("{client:?}").contains("amzn1.oa2-cs"));
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: TokenHttpClient,
    pub(crate) api_http: auth_core::reqwest::Client,
    pub(crate) auth_scheme: AuthScheme,
    pub(crate) credentials: Arc<dyn CredentialsProvider>,
    pub(crate) token_url: Url,
    pub(crate) api_base_url: Url,
    pub(crate) consent_base: Option<Url>,
    pub(crate) body_format: BodyFormat,
    pub(crate) environment: Environment,
    pub(crate) region: Region,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("token_url", &show_url(&inner.token_url))
            .field("api_base_url", &show_url(&inner.api_base_url))
            .field("environment", &inner.environment)
            .field("region", &inner.region)
            .field("body_format", &inner.body_format)
            .field("credentials", &inner.credentials)
            .finish_non_exhaustive()
    }
}

/// The answer of the Tokens API.
pub(crate) enum RdtOutcome {
    /// The RDT.
    Issued(Token),
    /// The LWA access token was rejected; a new one may succeed.
    Rejected(AuthError),
}

/// The grant of one token request.
#[derive(Clone, Copy)]
enum Grant<'a> {
    Refresh(&'a RefreshToken),
    ClientCredentials(&'a str),
    AuthorizationCode {
        code: &'a Secret,
        redirect_uri: Option<&'a str>,
    },
}

impl Client {
    /// A builder; `client_id` and `client_secret` (or `credentials`) are required. The
    /// environment defaults to production, the region to North America.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Exchanges a seller's refresh token for an access token (the call behind every
    /// seller-authorized SP-API operation).
    ///
    /// The body is `grant_type=refresh_token`, `refresh_token`, `client_id`,
    /// `client_secret` and never a `scope` (Amazon: "If you include refresh_token, do not
    /// include scope"). The returned token carries the refresh token: the one LWA sent
    /// back (it does not rotate), or the one given here if it sent none.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty refresh token (nothing sent);
    /// `invalid_grant` when the seller revoked the authorization (authorize again);
    /// `invalid_client` with the secret-rotation hint; transport errors after retries.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; nothing is lost (LWA refresh tokens are
    /// not single-use).
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Token, AuthError> {
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the LWA refresh token is empty".into(),
            ));
        }
        let token = self.token_call(Grant::Refresh(refresh_token)).await?;
        Ok(match token.refresh_token() {
            Some(_) => token,
            None => token.with_refresh_token(refresh_token.clone()),
        })
    }

    /// Gets a grantless access token (the `client_credentials` grant) for operations that
    /// no seller authorizes: notifications destinations, client-secret rotation.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set (nothing sent); LWA's `invalid_scope`
    /// for a scope the application may not use; as [`refresh`](Self::refresh) otherwise.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request.
    pub async fn grantless(&self, scopes: &Scopes<Scope>) -> Result<Token, AuthError> {
        check_grantless_scopes(scopes)?;
        let scope = scopes.to_string();
        self.token_call(Grant::ClientCredentials(&scope)).await
    }

    /// Exchanges the `spapi_oauth_code` of the website or Appstore workflow for the
    /// seller's refresh token (and a first access token). The code is valid for five
    /// minutes and only once.
    ///
    /// `redirect_uri` is sent only when given (Amazon's example and SDKs leave it out).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty code or a redirect URI that is not an
    /// absolute URL (nothing sent); `invalid_grant` for a spent or expired code; as
    /// [`refresh`](Self::refresh) otherwise.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request, and the single-use code may be spent
    /// without its refresh token being seen: let the future finish.
    pub async fn exchange_code(
        &self,
        code: impl Into<Secret>,
        redirect_uri: Option<&str>,
    ) -> Result<Token, AuthError> {
        let code = code.into();
        if code.expose_secret().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the authorization code is empty".into(),
            ));
        }
        if let Some(uri) = redirect_uri {
            Url::parse(uri).map_err(|_| {
                AuthError::InvalidConfig("the redirect URI is not an absolute URL".into())
            })?;
        }
        self.token_call(Grant::AuthorizationCode {
            code: &code,
            redirect_uri,
        })
        .await
    }

    /// The consent URL of the website authorization workflow on this client's hosts
    /// (Amazon's, or the `base_url` override), and the random state to keep in the
    /// user's session and check with
    /// [`AuthorizationRedirect::parse`](crate::AuthorizationRedirect::parse).
    ///
    /// # Errors
    ///
    /// As [`ConsentRequest::url_on`].
    pub fn consent_url(&self, request: &ConsentRequest) -> Result<(Url, State), AuthError> {
        request.url_on(self.inner.consent_base.as_ref())
    }

    /// Exchanges an LWA access token for a Restricted Data Token covering `request`'s
    /// resources (`POST /tokens/2021-03-01/restrictedDataToken`). Use the RDT instead of
    /// the access token on those restricted calls.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for no resources, more than 50, or a path not starting
    /// with `/` (nothing sent); [`AuthError::Vendor`] with the SP-API error code
    /// (`Unauthorized`, `InvalidInput`, ...) otherwise. 429 and 5xx are retried.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request.
    pub async fn restricted_data_token(
        &self,
        access_token: &Token,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<Token, AuthError> {
        match self.rdt_call(access_token, request).await? {
            RdtOutcome::Issued(token) => Ok(token),
            RdtOutcome::Rejected(error) => Err(error),
        }
    }

    /// The Tokens API call, telling a rejected access token (401, or 403 with an
    /// expired/invalid token message: worth one more try with a new one) from other errors.
    pub(crate) async fn rdt_call(
        &self,
        access_token: &Token,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<RdtOutcome, AuthError> {
        check_rdt_request(request)?;
        let url = self
            .inner
            .api_base_url
            .join(RDT_PATH.trim_start_matches('/'))
            .map_err(|e| {
                AuthError::InvalidConfig(format!("cannot build the Tokens API URL: {e}"))
            })?;
        let request = TokenRequest::post(url).json(request)?.secret_header(
            HeaderName::from_static(ACCESS_TOKEN_HEADER),
            access_token.access_token().expose_secret(),
        )?;
        self.inner
            .http
            .execute(&request, |raw| {
                if raw.status.is_success() {
                    let body = raw.json::<CreateRestrictedDataTokenResponse>()?;
                    Ok(RdtOutcome::Issued(body.into_token(raw.sent_at)))
                } else if error::token_rejected(raw.status, &raw.headers, &raw.body) {
                    Ok(RdtOutcome::Rejected(error::api_error(raw)))
                } else {
                    Err(error::api_error(raw))
                }
            })
            .await
    }

    /// The application's LWA client id, when the credentials provider knows it without
    /// I/O (always for fixed and rotating credentials).
    pub fn client_id(&self) -> Option<ClientId> {
        self.inner.credentials.client_id()
    }

    /// The environment part of this client's store keys: the SP-API environment when
    /// tokens come from one of Amazon's LWA endpoints, else `environment@host[:port]`
    /// (an emulator, a proxy), so that such a token is never served to the real
    /// environment ([`store_environment`](auth_core::http::store_environment)).
    fn store_environment(&self) -> String {
        let token_url = &self.inner.token_url;
        let own = Region::ALL
            .iter()
            .map(Region::lwa_url)
            .find(|lwa| lwa == token_url);
        store_environment(self.inner.environment.as_str(), token_url, own.as_ref())
    }

    /// The SP-API region.
    pub fn region(&self) -> Region {
        self.inner.region
    }

    /// The credentials provider.
    pub fn credentials(&self) -> &Arc<dyn CredentialsProvider> {
        &self.inner.credentials
    }

    /// Sends `grant` with the provider's first secret and, when LWA answers
    /// `invalid_client` and the provider holds a second secret (a rotation window), once
    /// more with that one. The token call itself never retries `invalid_client`; this is
    /// a change of credentials, not a retry.
    async fn token_call(&self, grant: Grant<'_>) -> Result<Token, AuthError> {
        let credentials = self.inner.credentials.credentials().await?;
        credentials.check()?;
        let first = self
            .send_grant(grant, &credentials, credentials.secret())
            .await;
        match (first, credentials.alternate()) {
            (Err(e), Some(alternate)) if is_invalid_client(&e) => {
                tracing::warn!(
                    "LWA refused the client secret (invalid_client); trying the other secret of the rotation window"
                );
                let token = self.send_grant(grant, &credentials, alternate).await?;
                self.inner.credentials.secret_accepted(alternate);
                Ok(token)
            }
            (result, _) => result,
        }
    }

    async fn send_grant(
        &self,
        grant: Grant<'_>,
        credentials: &Credentials,
        secret: &ClientSecret,
    ) -> Result<Token, AuthError> {
        let client_id = credentials.client_id();
        let body = grant_body(grant, client_id, secret);
        let mut request = TokenRequest::post(self.inner.token_url.clone());
        request = match self.inner.body_format {
            BodyFormat::Form => request.form(body.fields()),
            BodyFormat::Json => request.json(&body)?,
        };
        request = request.redact(secret.expose_secret());
        request = match grant {
            Grant::Refresh(refresh_token) => request.redact(refresh_token.expose_secret()),
            Grant::AuthorizationCode { code, .. } => request.redact(code.expose_secret()),
            Grant::ClientCredentials(_) => request,
        };
        self.inner
            .http
            .execute(&request, parse_token_response)
            .await
    }
}

fn grant_body<'a>(
    grant: Grant<'a>,
    client_id: &'a ClientId,
    client_secret: &'a ClientSecret,
) -> TokenRequestBody<'a> {
    match grant {
        Grant::Refresh(refresh_token) => TokenRequestBody::RefreshToken {
            refresh_token,
            client_id,
            client_secret,
        },
        Grant::ClientCredentials(scope) => TokenRequestBody::ClientCredentials {
            scope,
            client_id,
            client_secret,
        },
        Grant::AuthorizationCode { code, redirect_uri } => TokenRequestBody::AuthorizationCode {
            code,
            redirect_uri,
            client_id,
            client_secret,
        },
    }
}

fn parse_token_response(raw: &RawResponse<'_>) -> Result<Token, AuthError> {
    if raw.status.is_success() {
        Ok(raw.json::<TokenResponse>()?.into_token(raw.sent_at))
    } else {
        Err(error::lwa_error(raw))
    }
}

fn is_invalid_client(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            ..
        }
    )
}

pub(crate) fn check_grantless_scopes(scopes: &Scopes<Scope>) -> Result<(), AuthError> {
    if scopes.is_empty() {
        return Err(AuthError::InvalidScope {
            scopes: Vec::new(),
            reason: "a grantless token needs at least one scope (for example sellingpartnerapi::notifications)"
                .into(),
        });
    }
    scopes.validate()
}

pub(crate) fn check_rdt_request(
    request: &CreateRestrictedDataTokenRequest,
) -> Result<(), AuthError> {
    let count = request.restricted_resources.len();
    if count == 0 {
        return Err(AuthError::InvalidConfig(
            "a restricted data token needs at least one restricted resource".into(),
        ));
    }
    if count > CreateRestrictedDataTokenRequest::MAX_RESOURCES {
        return Err(AuthError::InvalidConfig(format!(
            "a restricted data token covers at most {} restricted resources; {count} were given: split them",
            CreateRestrictedDataTokenRequest::MAX_RESOURCES
        )));
    }
    if let Some(bad) = request
        .restricted_resources
        .iter()
        .find(|r| !r.path.starts_with('/'))
    {
        return Err(AuthError::InvalidConfig(format!(
            "restricted resource path `{}` must start with `/`",
            bad.path
        )));
    }
    Ok(())
}

impl VendorClient for Client {
    type Environment = Environment;

    /// `"amazon-sp"`.
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    /// The SP-API environment (default production).
    fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The LWA token endpoint in use.
    fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The SP-API base URL in use (region and environment, or the override), with a
    /// trailing `/`: `api_url("sellers/v1/marketplaceParticipations")` goes below it.
    fn api_base_url(&self) -> &Url {
        &self.inner.api_base_url
    }

    /// The `x-amz-access-token` header (not `Authorization`), for access tokens and
    /// Restricted Data Tokens alike.
    fn auth_scheme(&self) -> &AuthScheme {
        &self.inner.auth_scheme
    }

    /// An SP-API answer rejects the token (so a new token may succeed) on every 401, and
    /// on a 403 whose error is `Unauthorized` and whose message or details say the access
    /// token expired or is invalid, revoked or malformed ("The access token you provided
    /// has expired."). Not every 403: `Unauthorized` / "Access to requested resource is
    /// denied." with no word about the token is a missing role or a wrong marketplace, and
    /// a new token would be refused the same way.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::{Client, VendorClient};
    /// use auth_core::reqwest::{StatusCode, header::HeaderMap};
    ///
    /// let client = Client::builder().client_id("id").client_secret("s").build().unwrap();
    /// let expired = br#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#;
    /// assert!(client.token_rejected(StatusCode::FORBIDDEN, &HeaderMap::new(), expired));
    ///
    /// let no_role = br#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}"#;
    /// assert!(!client.token_rejected(StatusCode::FORBIDDEN, &HeaderMap::new(), no_role));
    /// ```
    fn rejected_token_check(&self) -> RejectedTokenCheck {
        error::token_rejected
    }

    /// The store key of `subject`'s token (a selling-partner id; any fixed name for a
    /// grantless token): `amazon-sp/{environment}/{client id}/{subject}`, where
    /// `environment` is `production` or `sandbox`, or `environment@host[:port]` when
    /// tokens come from an emulator or a proxy (so its tokens are never served to the real
    /// environment). The format is the one [`SellerTokens`](crate::SellerTokens) has
    /// always used.
    ///
    /// The client id is the credentials provider's
    /// ([`CredentialsProvider::client_id`]); a provider that does not report one gives an
    /// empty client-id part: implement it before two applications share a store.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::{Client, VendorClient};
    ///
    /// let client = Client::builder().client_id("amzn1.application-oa2-client.1").client_secret("s").build().unwrap();
    /// assert_eq!(
    ///     client.store_key("A3SELLER").to_string(),
    ///     "amazon-sp/production/amzn1.application-oa2-client.1/A3SELLER"
    /// );
    /// let emulator = Client::builder()
    ///     .client_id("amzn1.application-oa2-client.1")
    ///     .client_secret("s")
    ///     .base_url("http://127.0.0.1:8080/")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(emulator.store_key("A3SELLER").environment(), "production@127.0.0.1:8080");
    /// ```
    fn store_key(&self, subject: &str) -> StoreKey {
        let client_id = self.client_id();
        StoreKey::new(
            VENDOR,
            self.store_environment(),
            client_id.as_ref().map_or("", ClientId::as_str),
            subject,
        )
    }

    /// The client for SP-API calls ([`auth_core::api_http_client`]): it follows redirects
    /// only within the origin of the request, so `x-amz-access-token` never reaches another
    /// host (reqwest strips only `Authorization` on a cross-host redirect). Token calls use
    /// their own client, which follows none.
    fn http_client(&self) -> &auth_core::reqwest::Client {
        &self.inner.api_http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdt_resource_count_is_checked_before_sending() {
        use crate::wire::{RestrictedMethod, RestrictedResource};
        let one = RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders");
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new([])).is_err());
        assert!(
            check_rdt_request(&CreateRestrictedDataTokenRequest::new(vec![
                one.clone();
                50
            ]))
            .is_ok()
        );
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new(vec![one; 51])).is_err());
        let relative = RestrictedResource::new(RestrictedMethod::Get, "orders/v0/orders");
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new([relative])).is_err());
    }
}
