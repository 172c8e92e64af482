//! `authtoken amazon-sp`: Login with Amazon for the Selling Partner API: the refresh grant
//! (long-lived refresh tokens), grantless (client credentials), the website authorization
//! workflow (consent URL, `spapi_oauth_code`).

use auth_amazon_sp::{
    Client, ConsentRequest, Environment, Marketplace, Portal, RefreshGrant, Region, Scope,
    VendorClient as _,
};
use auth_core::{Scopes, Url};
use clap::Subcommand;

use crate::cli::{Code, Connection, Grant, Output, ScopeArg, parse};
use crate::error::{self, CliError};
use crate::token::Run;
use crate::vendors::{app_subject, no_refresh_token, print_authorize, seller_subject, with_urls};

const VENDOR: &str = "amazon-sp";

/// Amazon SP-API options.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten, next_help_heading = "Credentials, endpoints and cache")]
    connection: Connection,
    /// The SP-API environment: production or sandbox (the same LWA token endpoint)
    #[arg(
        long = "env",
        env = "AUTHTOKEN_ENV",
        global = true,
        default_value = "production",
        value_parser = parse_environment,
        value_name = "ENV"
    )]
    environment: Environment,
    /// The SP-API region: na, eu or fe
    #[arg(
        long,
        env = "AUTHTOKEN_AMAZON_REGION",
        global = true,
        default_value = "na",
        value_parser = parse::<Region>
    )]
    region: Region,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Print an access token: the refresh grant with a refresh token (given or cached),
    /// grantless with --scope and no refresh token
    Token {
        #[command(flatten)]
        grant: Grant,
        #[command(flatten)]
        scope: ScopeArg,
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
    /// Print the Seller Central (or Vendor Central) consent URL and the state to check on
    /// the redirect
    AuthorizeUrl {
        /// The SP-API application id (amzn1.sp.solution.…), not the LWA client id
        #[arg(long, env = "AUTHTOKEN_AMAZON_APPLICATION_ID")]
        application_id: String,
        /// The marketplace's country code (US, DE, UK, JP, ...)
        #[arg(
            long,
            env = "AUTHTOKEN_AMAZON_MARKETPLACE",
            default_value = "US",
            value_parser = parse_marketplace
        )]
        marketplace: Marketplace,
        /// One of the application's registered redirect URIs (default: the first)
        #[arg(long, env = "AUTHTOKEN_REDIRECT_URI")]
        redirect_uri: Option<Url>,
        /// The application is a draft (adds version=beta)
        #[arg(long)]
        draft: bool,
        /// Vendor Central instead of Seller Central
        #[arg(long)]
        vendor_central: bool,
        /// Print the URL and state as JSON
        #[arg(long)]
        json: bool,
    },
    /// Exchange the spapi_oauth_code from the redirect for tokens; with --cache, keep them
    /// there
    ExchangeCode {
        #[command(flatten)]
        code: Code,
        /// The redirect URI, if the consent URL named one
        #[arg(long, env = "AUTHTOKEN_REDIRECT_URI")]
        redirect_uri: Option<String>,
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
}

/// Runs an Amazon SP-API command.
pub(crate) async fn run(args: Args) -> Result<(), CliError> {
    let client = client(&args)?;
    let connection = &args.connection;
    let store = connection.store();
    let fail = error::auth(VENDOR, true);
    match args.action {
        Action::Token {
            grant,
            scope,
            output,
        } => {
            let scopes = scope.joined();
            let refresh_token = grant.refresh_token;
            let (builder, subject) = match (refresh_token.as_deref(), scopes.as_deref()) {
                (Some(_), Some(_)) => {
                    return Err(CliError::usage(
                        "Login with Amazon takes no scope with a refresh token: drop --scope \
                         (the seller's authorization decides), or drop the refresh token for \
                         a grantless token",
                    ));
                }
                (Some(refresh), None) => (
                    client.refresh_provider_builder(refresh),
                    seller_subject(connection),
                ),
                (None, Some(scopes)) => {
                    let parsed: Scopes<Scope> = scopes.parse().map_err(&fail)?;
                    (
                        client.grantless_provider_builder(parsed).map_err(&fail)?,
                        app_subject(connection, Some(scopes)),
                    )
                }
                (None, None) if store.is_some() => (
                    client.provider_builder(RefreshGrant::new(client.clone())),
                    seller_subject(connection),
                ),
                (None, None) => {
                    return Err(no_refresh_token(VENDOR, ", --scope for a grantless token"));
                }
            };
            let run = Run {
                client: &client,
                authorizes: true,
                store: store.as_ref(),
                subject,
                output,
            };
            run.token(builder, refresh_token.as_deref()).await
        }
        Action::AuthorizeUrl {
            application_id,
            marketplace,
            redirect_uri,
            draft,
            vendor_central,
            json,
        } => {
            let mut request = ConsentRequest::new(application_id, marketplace)
                .draft(draft)
                .portal(if vendor_central {
                    Portal::VendorCentral
                } else {
                    Portal::SellerCentral
                });
            if let Some(redirect_uri) = redirect_uri {
                request = request.redirect_uri(redirect_uri);
            }
            let (url, state) = client.consent_url(&request).map_err(&fail)?;
            print_authorize(&url, &state, json);
            Ok(())
        }
        Action::ExchangeCode {
            code,
            redirect_uri,
            output,
        } => {
            let run = Run {
                client: &client,
                authorizes: true,
                store: store.as_ref(),
                subject: seller_subject(connection),
                output,
            };
            let refresh = client.provider_builder(RefreshGrant::new(client.clone()));
            run.exchange(
                client.exchange_code(code.code, redirect_uri.as_deref()),
                refresh,
            )
            .await
        }
    }
}

fn client(args: &Args) -> Result<Client, CliError> {
    let connection = &args.connection;
    let mut builder = Client::builder()
        .environment(args.environment)
        .region(args.region);
    if let Some(id) = &connection.client_id {
        builder = builder.client_id(id.as_str());
    }
    if let Some(secret) = &connection.client_secret {
        builder = builder.client_secret(secret.as_str());
    }
    with_urls!(builder, connection)
        .build()
        .map_err(error::auth(VENDOR, true))
}

fn parse_environment(value: &str) -> Result<Environment, String> {
    match value {
        "production" => Ok(Environment::Production),
        "sandbox" => Ok(Environment::Sandbox),
        other => Err(format!(
            "unknown environment `{other}`; expected one of: production, sandbox"
        )),
    }
}

fn parse_marketplace(value: &str) -> Result<Marketplace, String> {
    Marketplace::from_country_code(value)
        .ok_or_else(|| format!("unknown marketplace country code `{value}` (US, DE, UK, JP, ...)"))
}
