//! [`RestrictedDataTokens`]: one cached RDT provider per set of restricted resources.

use std::fmt;
use std::sync::Arc;

use auth_core::reqwest::{RequestBuilder, Response};
use auth_core::vendor::VendorClient;
use auth_core::{AuthError, CachedTokenProvider, Token, TokenCache};

use crate::client::{Client, check_rdt_request};
use crate::grant::RestrictedDataTokenSource;
use crate::wire::CreateRestrictedDataTokenRequest;

/// Restricted Data Tokens for one selling partner, cached per resource set.
///
/// Each distinct set of restricted resources (order and duplicates do not matter) gets
/// its own [`CachedTokenProvider`] driving a [`RestrictedDataTokenSource`]: concurrent
/// callers share one Tokens API call, and an RDT is reused until shortly before it
/// expires. The map is auth-core's bounded [`TokenCache`].
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: auth_amazon_sp::Client, seller: std::sync::Arc<auth_core::CachedTokenProvider>) -> Result<(), auth_core::AuthError> {
/// use auth_amazon_sp::RestrictedDataTokens;
/// use auth_amazon_sp::wire::{CreateRestrictedDataTokenRequest, RestrictedMethod, RestrictedResource};
///
/// let rdts = RestrictedDataTokens::new(client.clone(), seller);
/// let orders = CreateRestrictedDataTokenRequest::new([
///     RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders").with_data_elements(["buyerInfo"]),
/// ]);
/// use auth_amazon_sp::VendorClient;
/// let url = client.api_url("orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER")?;
/// let response = rdts.send(&orders, client.http_client().get(url)).await?;
/// # let _ = response; Ok(()) }
/// ```
pub struct RestrictedDataTokens {
    cache: TokenCache<CreateRestrictedDataTokenRequest>,
}

impl RestrictedDataTokens {
    /// How many resource sets are kept by default.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// RDTs paid for with the LWA tokens of `lwa` (one selling partner's provider).
    pub fn new(client: Client, lwa: Arc<CachedTokenProvider>) -> Self {
        Self::with_capacity(client, lwa, Self::DEFAULT_CAPACITY)
    }

    /// Like [`new`](Self::new), keeping at most `capacity` resource sets.
    pub fn with_capacity(client: Client, lwa: Arc<CachedTokenProvider>, capacity: usize) -> Self {
        let cache = TokenCache::new(
            capacity,
            move |request: &CreateRestrictedDataTokenRequest| {
                let source = RestrictedDataTokenSource::new(
                    client.clone(),
                    Arc::clone(&lwa),
                    request.clone(),
                )?;
                Ok(client.provider_builder(source).build())
            },
        );
        Self { cache }
    }

    /// The provider of `request`'s resource set.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an invalid request (no resources, more than 50, a
    /// relative path); nothing is cached or sent.
    pub fn provider(
        &self,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<CachedTokenProvider, AuthError> {
        // The request as given is checked, before duplicates are merged into the key.
        check_rdt_request(request)?;
        self.cache.provider(&resource_set(request))
    }

    /// An RDT for `request`'s resources, cached.
    ///
    /// # Errors
    ///
    /// As [`provider`](Self::provider), and the Tokens API's or LWA's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe (see [`CachedTokenProvider::token`]).
    pub async fn token(
        &self,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<Arc<Token>, AuthError> {
        self.provider(request)?.token().await
    }

    /// Sends a restricted SP-API call with the RDT of `request` in `x-amz-access-token`;
    /// when the API rejects the RDT ([`VendorClient::token_rejected`]), gets a new one and
    /// sends the call once more ([`CachedTokenProvider::send`]).
    ///
    /// # Errors
    ///
    /// As [`token`](Self::token), or [`AuthError::ApiTransport`] when the call gets no
    /// response.
    pub async fn send(
        &self,
        request: &CreateRestrictedDataTokenRequest,
        api_request: RequestBuilder,
    ) -> Result<Response, AuthError> {
        self.provider(request)?.send(api_request).await
    }

    /// Number of resource sets held.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether no resource set is held.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl fmt::Debug for RestrictedDataTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestrictedDataTokens")
            .field("cache", &self.cache)
            .finish()
    }
}

/// The cache key: the same resources in any order, duplicates removed.
fn resource_set(request: &CreateRestrictedDataTokenRequest) -> CreateRestrictedDataTokenRequest {
    let mut key = request.clone();
    for resource in &mut key.restricted_resources {
        resource.data_elements.sort();
        resource.data_elements.dedup();
    }
    key.restricted_resources.sort();
    key.restricted_resources.dedup();
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{RestrictedMethod, RestrictedResource};

    #[test]
    fn resource_set_ignores_order_and_duplicates() {
        let a = RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders")
            .with_data_elements(["shippingAddress", "buyerInfo"]);
        let b = RestrictedResource::new(RestrictedMethod::Get, "/mfn/v0/shipments/{shipmentId}");
        let one = CreateRestrictedDataTokenRequest::new([a.clone(), b.clone(), a.clone()]);
        let two = CreateRestrictedDataTokenRequest::new([
            b,
            RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders")
                .with_data_elements(["buyerInfo", "shippingAddress", "buyerInfo"]),
        ]);
        assert_eq!(resource_set(&one), resource_set(&two));
        assert_ne!(
            resource_set(&one),
            resource_set(
                &one.clone()
                    .with_target_application("amzn1.sp.solution.other")
            )
        );
    }
}
