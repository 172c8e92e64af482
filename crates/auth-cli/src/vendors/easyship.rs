//! `authtoken easyship`: the refresh grant (single-use refresh tokens, rotated on every
//! refresh), client credentials (Enterprise), the authorization code.

use auth_core::{RefreshToken, Scopes};
use auth_easyship::{Client, Endpoint, Environment, RefreshGrant, Scope, VendorClient as _};
use clap::Subcommand;

use crate::cli::{Code, Connection, Grant, Output, ScopeArg, parse};
use crate::error::{self, CliError};
use crate::token::Run;
use crate::vendors::{app_subject, no_refresh_token, print_authorize, seller_subject, with_urls};

const VENDOR: &str = "easyship";

/// Easyship options.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten, next_help_heading = "Credentials, endpoints and cache")]
    connection: Connection,
    /// The environment: production or sandbox (Easyship documents OAuth for production
    /// only: sandbox needs --token-url or --base-url)
    #[arg(
        long = "env",
        env = "AUTHTOKEN_ENV",
        global = true,
        default_value = "production",
        value_parser = parse::<Environment>,
        value_name = "ENV"
    )]
    environment: Environment,
    /// The token endpoint: partner (apps that sellers authorize) or enterprise (client
    /// credentials of the Enterprise API)
    #[arg(
        long,
        env = "AUTHTOKEN_EASYSHIP_ENDPOINT",
        global = true,
        default_value = "partner",
        value_parser = ["partner", "enterprise"]
    )]
    endpoint: String,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Print an access token: the refresh grant with a refresh token (given or cached),
    /// client credentials with --scope and no refresh token
    ///
    /// Easyship refresh tokens work once: every refresh spends the one presented and
    /// returns a new one. Use --cache DIR so the new one is kept (or --json
    /// --show-refresh-token to print it).
    Token {
        #[command(flatten)]
        grant: Grant,
        #[command(flatten)]
        scope: ScopeArg,
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
    /// Print the URL to send the seller to, and the state to check on the redirect
    AuthorizeUrl {
        /// The redirect URI registered with Easyship, exactly
        #[arg(long, env = "AUTHTOKEN_REDIRECT_URI")]
        redirect_uri: String,
        #[command(flatten)]
        scope: ScopeArg,
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

/// Runs an Easyship command.
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
            let parsed = scopes
                .as_deref()
                .map(str::parse::<Scopes<Scope>>)
                .transpose()
                .map_err(&fail)?;
            let refresh_token = grant.refresh_token;
            let (builder, subject) = match (refresh_token.as_deref(), parsed) {
                (None, Some(parsed)) => (
                    client
                        .client_credentials_provider_builder(parsed)
                        .map_err(&fail)?,
                    app_subject(connection, scopes.as_deref()),
                ),
                (refresh, parsed) => {
                    if refresh.is_none() && store.is_none() {
                        return Err(no_refresh_token(
                            VENDOR,
                            ", --scope for client credentials (Enterprise)",
                        ));
                    }
                    if store.is_none() && !output.show_refresh_token {
                        return Err(CliError::usage(
                            "an Easyship refresh spends the refresh token and returns a new \
                             one, which would be lost: add --cache DIR to keep it (or --json \
                             --show-refresh-token to print it)",
                        ));
                    }
                    let grant = match parsed {
                        Some(parsed) => {
                            RefreshGrant::with_scopes(client.clone(), parsed).map_err(&fail)?
                        }
                        None => RefreshGrant::new(client.clone()),
                    };
                    let mut builder = client.provider_builder(grant);
                    if let Some(refresh) = refresh {
                        builder = builder.seed_refresh_token(RefreshToken::new(refresh));
                    }
                    (builder, seller_subject(connection))
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
            redirect_uri,
            scope,
            json,
        } => {
            let scopes: Scopes<Scope> = scope
                .joined()
                .ok_or_else(|| {
                    CliError::usage("Easyship needs --scope on the authorize URL (space-separated)")
                })?
                .parse()
                .map_err(&fail)?;
            let (url, state) = client
                .authorize_url(&redirect_uri, &scopes)
                .map_err(&fail)?;
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
    let mut builder =
        Client::builder()
            .environment(args.environment)
            .endpoint(match args.endpoint.as_str() {
                "enterprise" => Endpoint::Enterprise,
                _ => Endpoint::Partner,
            });
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
