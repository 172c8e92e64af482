//! `authtoken orangeconnex`: the authorization code and the refresh grant (refresh tokens
//! last a year; the request goes in the query string). The client key header secret is
//! Orange Connex's own; a client secret is optional.

use auth_core::Secret;
use auth_orangeconnex::{Client, Environment, RefreshGrant, VendorClient as _};
use clap::Subcommand;

use crate::cli::{Code, Connection, Grant, Output, parse};
use crate::error::{self, CliError};
use crate::token::Run;
use crate::vendors::{no_refresh_token, print_authorize, seller_subject, with_urls};

const VENDOR: &str = "orangeconnex";

/// Orange Connex options.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten, next_help_heading = "Credentials, endpoints and cache")]
    connection: Connection,
    /// The client key header secret, if the app has one; prefer AUTHTOKEN_CLIENT_KEY
    #[arg(
        long,
        env = "AUTHTOKEN_CLIENT_KEY",
        hide_env_values = true,
        global = true,
        value_name = "KEY"
    )]
    client_key: Option<String>,
    /// The environment: production, stage, stage-cn or uk
    #[arg(
        long = "env",
        env = "AUTHTOKEN_ENV",
        global = true,
        default_value = "production",
        value_parser = parse::<Environment>,
        value_name = "ENV"
    )]
    environment: Environment,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Print an access token (the refresh grant, with a refresh token given or cached)
    Token {
        #[command(flatten)]
        grant: Grant,
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
    /// Print the URL to send the seller to, and the state to check on the redirect
    AuthorizeUrl {
        /// The redirect URI registered with Orange Connex, exactly
        #[arg(long, env = "AUTHTOKEN_REDIRECT_URI")]
        redirect_uri: String,
        /// Print the URL and state as JSON
        #[arg(long)]
        json: bool,
    },
    /// Exchange the code from the redirect for tokens; with --cache, keep them there
    ExchangeCode {
        #[command(flatten)]
        code: Code,
        /// The redirect URI of the authorize step, exactly
        #[arg(long, env = "AUTHTOKEN_REDIRECT_URI")]
        redirect_uri: String,
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
}

/// Runs an Orange Connex command.
pub(crate) async fn run(args: Args) -> Result<(), CliError> {
    let client = client(&args)?;
    let connection = &args.connection;
    let store = connection.store();
    match args.action {
        Action::Token { grant, output } => {
            let refresh_token = grant.refresh_token;
            let builder = match refresh_token.as_deref() {
                Some(refresh) => client.refresh_provider_builder(refresh),
                None if store.is_some() => {
                    client.provider_builder(RefreshGrant::new(client.clone()))
                }
                None => return Err(no_refresh_token(VENDOR, "")),
            };
            let run = Run {
                client: &client,
                authorizes: true,
                store: store.as_ref(),
                subject: seller_subject(connection),
                output,
            };
            run.token(builder, refresh_token.as_deref()).await
        }
        Action::AuthorizeUrl { redirect_uri, json } => {
            let (url, state) = client.authorize_url(&redirect_uri);
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
            run.exchange(client.exchange_code(code.code, &redirect_uri), refresh)
                .await
        }
    }
}

fn client(args: &Args) -> Result<Client, CliError> {
    let connection = &args.connection;
    let mut builder = Client::builder().environment(args.environment);
    if let Some(id) = &connection.client_id {
        builder = builder.client_id(id.as_str());
    }
    if let Some(secret) = &connection.client_secret {
        builder = builder.client_secret(secret.as_str());
    }
    if let Some(key) = &args.client_key {
        builder = builder.client_key(Secret::new(key.as_str()));
    }
    with_urls!(builder, connection)
        .build()
        .map_err(error::auth(VENDOR, true))
}
