//! `token` and `exchange-code` for any vendor: a [`CachedTokenProvider`] over the grant the
//! options chose, with the store `--cache` or `--store` names.

use std::future::Future;
use std::time::Duration;

use auth_core::{AuthError, CachedTokenProvider, CachedTokenProviderBuilder, Token, VendorClient};

use crate::cache::StoreSpec;
use crate::cli::Output;
use crate::error::{self, CliError};
use crate::output::{self, Origin};
use crate::progress::Spinner;

/// The longest this process waits for a background refresh to save before it exits:
/// the token call's whole retry budget (60 s) and then some.
const SETTLE: Duration = Duration::from_secs(75);

/// A vendor client and what the command line says about the token it gets.
pub(crate) struct Run<'a, C> {
    pub(crate) client: &'a C,
    /// Whether the vendor has a browser step (`authorize-url`), for the fixes.
    pub(crate) authorizes: bool,
    /// `--store` (or `--cache`).
    pub(crate) store: Option<&'a StoreSpec>,
    /// The store subject.
    pub(crate) subject: String,
    pub(crate) output: Output,
}

impl<C: VendorClient> Run<'_, C> {
    fn auth_error(&self) -> impl Fn(AuthError) -> CliError {
        error::auth(self.client.vendor(), self.authorizes)
    }

    /// `builder` with the `--store` (or `--cache`) store under this run's key, if there is
    /// one.
    async fn with_store(
        &self,
        builder: CachedTokenProviderBuilder,
    ) -> Result<CachedTokenProviderBuilder, CliError> {
        Ok(match self.store {
            Some(spec) => {
                let key = self.client.store_key(&self.subject);
                let store = spec.open(&key).await?;
                builder.store(store, key)
            }
            None => builder,
        })
    }

    /// Prints a token from `builder`'s provider (`authtoken <vendor> token`).
    ///
    /// `configured` is the refresh token given on the command line, to warn when the
    /// vendor rotated it and the new one is neither cached nor shown.
    pub(crate) async fn token(
        &self,
        builder: CachedTokenProviderBuilder,
        configured: Option<&str>,
    ) -> Result<(), CliError> {
        let provider = self.with_store(builder).await?.build();
        let spinner = Spinner::start(format!("getting a {} token", self.client.vendor()));
        let token = provider.token().await;
        let settled = settle(&provider).await;
        drop(spinner);
        let token = token.map_err(self.auth_error())?;
        settled.map_err(self.auth_error())?;
        if self.store.is_none()
            && !self.output.show_refresh_token
            && let (Some(configured), Some(new)) = (configured, token.refresh_token())
            && new.expose_secret() != configured
        {
            eprintln!(
                "warning: {} issued a new refresh token, which was neither cached nor \
                 printed; use --cache DIR (or --json --show-refresh-token) to keep it",
                self.client.vendor()
            );
        }
        self.print(&token)
    }

    /// Exchanges an authorization code (`exchange`, the vendor call) and prints the token;
    /// with `--cache`, first installs it in the store through `refresh`'s provider
    /// (`replace_token`), so `token --cache` refreshes it from then on.
    pub(crate) async fn exchange(
        &self,
        exchange: impl Future<Output = Result<Token, AuthError>>,
        refresh: CachedTokenProviderBuilder,
    ) -> Result<(), CliError> {
        if self.store.is_none() && !self.output.show_refresh_token {
            return Err(CliError::usage(
                "exchange-code without --cache would print the access token and lose the \
                 refresh token (the code works once); add --cache DIR to keep it, or \
                 --json --show-refresh-token to print it",
            ));
        }
        let provider = self.with_store(refresh).await?.build();
        let spinner = Spinner::start(format!("exchanging the code with {}", self.client.vendor()));
        let token = exchange.await.map_err(self.auth_error());
        let token = match (token, self.store) {
            (Ok(token), Some(_)) => provider
                .replace_token(token)
                .await
                .map_err(self.auth_error()),
            (token, _) => token.map(std::sync::Arc::new),
        };
        drop(spinner);
        self.print(&*token?)
    }

    fn print(&self, token: &Token) -> Result<(), CliError> {
        let origin = Origin {
            vendor: self.client.vendor(),
            environment: self.client.environment().to_string(),
            subject: self.store.map(|_| self.subject.as_str()),
        };
        output::print_token(token, self.client.auth_scheme(), &origin, self.output)
    }
}

/// Lets a background refresh finish and saves anything unsaved before the process
/// exits.
///
/// A token inside its refresh window is handed out while the provider refreshes in a
/// spawned task; a short-lived process that returned at once would drop that task with
/// the runtime, possibly after the vendor rotated a single-use refresh token and before
/// the store saved the new one.
async fn settle(provider: &CachedTokenProvider) -> Result<(), AuthError> {
    match tokio::time::timeout(SETTLE, provider.settle()).await {
        Ok(settled) => settled,
        // Still running after the whole retry budget: save what can be saved.
        Err(_) => provider.flush().await,
    }
}
