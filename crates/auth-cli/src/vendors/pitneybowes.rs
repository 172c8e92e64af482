//! `authtoken pitneybowes`: client credentials (the API key and secret, sent as HTTP
//! Basic). No browser step, so `token` is its only action.

use auth_pitneybowes::{Client, Environment};
use clap::Subcommand;

use crate::cli::{Connection, Output, parse};
use crate::error::{self, CliError};
use crate::token::Run;
use crate::vendors::with_urls;

const VENDOR: &str = "pitneybowes";

/// Pitney Bowes options.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten, next_help_heading = "Credentials, endpoints and cache")]
    connection: Connection,
    /// The environment: sandbox, production, legacy-sandbox or legacy-production
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
    /// Print an access token (client credentials: --api-key and --api-secret, or
    /// AUTHTOKEN_CLIENT_ID and AUTHTOKEN_CLIENT_SECRET)
    Token {
        #[command(flatten, next_help_heading = "Output")]
        output: Output,
    },
}

/// Runs a Pitney Bowes command.
pub(crate) async fn run(args: Args) -> Result<(), CliError> {
    let connection = &args.connection;
    let mut builder = Client::builder().environment(args.environment);
    if let Some(key) = &connection.client_id {
        builder = builder.api_key(key.as_str());
    }
    if let Some(secret) = &connection.client_secret {
        builder = builder.api_secret(secret.as_str());
    }
    let client = with_urls!(builder, connection)
        .build()
        .map_err(error::auth(VENDOR, false))?;
    match args.action {
        Action::Token { output } => {
            let store = connection.store();
            let run = Run {
                client: &client,
                authorizes: false,
                store: store.as_ref(),
                // The vendor crate's own subject for the application token, so an
                // application sharing the store shares the token.
                subject: connection
                    .subject
                    .clone()
                    .unwrap_or_else(|| Client::APP_SUBJECT.to_owned()),
                output,
            };
            run.token(client.provider_builder(), None).await
        }
    }
}
