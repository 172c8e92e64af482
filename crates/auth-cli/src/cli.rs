//! The command line: `authtoken <vendor> token|authorize-url|exchange-code`,
//! `authtoken status` and `authtoken demo`, with the options every vendor shares.

use std::path::PathBuf;
use std::str::FromStr;

use auth_core::AuthError;
use clap::{Args, Parser, Subcommand};

use crate::cache::StoreSpec;
use crate::error::CliError;
use crate::vendors::{amazon, easyship, orangeconnex, pitneybowes};

/// The environment variables, shown at the end of `--help`.
const ENVIRONMENT: &str = "\
Environment variables (a flag wins over its variable; prefer variables for secrets, a flag
shows in `ps`):
  AUTHTOKEN_CLIENT_ID        --client-id (Pitney Bowes: the API key)
  AUTHTOKEN_CLIENT_SECRET    --client-secret (Pitney Bowes: the API secret)
  AUTHTOKEN_REFRESH_TOKEN    --refresh-token
  AUTHTOKEN_SCOPE            --scope
  AUTHTOKEN_ENV              --env
  AUTHTOKEN_TOKEN_URL        --token-url
  AUTHTOKEN_BASE_URL         --base-url
  AUTHTOKEN_CACHE            --cache
  AUTHTOKEN_STORE            --store (prefer the variable for a Redis URL with a password)
  AUTHTOKEN_STORE_PREFIX     --store-prefix
  AUTHTOKEN_SUBJECT          --subject
  AUTHTOKEN_CODE             exchange-code --code
  AUTHTOKEN_REDIRECT_URI     --redirect-uri
  AUTHTOKEN_EASYSHIP_ENDPOINT      easyship --endpoint
  AUTHTOKEN_AMAZON_REGION          amazon-sp --region
  AUTHTOKEN_AMAZON_APPLICATION_ID  amazon-sp authorize-url --application-id
  AUTHTOKEN_AMAZON_MARKETPLACE     amazon-sp authorize-url --marketplace
  AUTHTOKEN_CLIENT_KEY       orangeconnex --client-key

Exit status: 0 success; 1 the vendor or the cache refused (the message says how to fix it);
2 a usage error.";

/// OAuth access tokens for Easyship, Amazon SP-API, Pitney Bowes and Orange Connex.
///
/// `authtoken <vendor> token` prints an access token; `--cache DIR` keeps it (and the
/// refresh token) in a directory so repeated calls reuse it and rotate refresh tokens
/// safely.
#[derive(Parser)]
#[command(name = "authtoken", version, after_long_help = ENVIRONMENT)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Easyship: authorization code, single-use refresh tokens, client credentials
    Easyship(easyship::Args),
    /// Amazon Selling Partner API (Login with Amazon): refresh, grantless, website
    /// authorization
    #[command(name = "amazon-sp")]
    AmazonSp(amazon::Args),
    /// Pitney Bowes: client credentials (API key and secret)
    Pitneybowes(pitneybowes::Args),
    /// Orange Connex: authorization code and refresh
    Orangeconnex(orangeconnex::Args),
    /// What a --cache directory holds: vendor, environment, subject, expiry, whether the
    /// seller must authorize again (never a secret)
    Status(crate::status::Args),
    /// Every grant flow of every vendor against local emulators, offline and without
    /// credentials: prints what happened, exits 0 only if every flow did what it should
    Demo(crate::demo::Args),
}

/// Runs the command.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Easyship(args) => easyship::run(args).await,
        Command::AmazonSp(args) => amazon::run(args).await,
        Command::Pitneybowes(args) => pitneybowes::run(args).await,
        Command::Orangeconnex(args) => orangeconnex::run(args).await,
        Command::Status(args) => crate::status::run(&args).await,
        Command::Demo(args) => crate::demo::run(&args).await,
    }
}

/// Where and as whom: the options every vendor shares (global: before or after the
/// action).
#[derive(Args)]
pub(crate) struct Connection {
    /// The OAuth client id (Pitney Bowes: the API key)
    #[arg(
        long,
        visible_alias = "api-key",
        env = "AUTHTOKEN_CLIENT_ID",
        global = true,
        value_name = "ID"
    )]
    pub(crate) client_id: Option<String>,
    /// The client secret (Pitney Bowes: the API secret); prefer AUTHTOKEN_CLIENT_SECRET
    #[arg(
        long,
        visible_alias = "api-secret",
        env = "AUTHTOKEN_CLIENT_SECRET",
        hide_env_values = true,
        global = true,
        value_name = "SECRET"
    )]
    pub(crate) client_secret: Option<String>,
    /// The token endpoint, instead of the environment's (a local stand-in, a proxy)
    #[arg(long, env = "AUTHTOKEN_TOKEN_URL", global = true, value_name = "URL")]
    pub(crate) token_url: Option<String>,
    /// Every host of the vendor at once, paths kept (a local stand-in)
    #[arg(long, env = "AUTHTOKEN_BASE_URL", global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Keep tokens in this directory (files mode 0600): repeated calls reuse a fresh token,
    /// and rotated refresh tokens are saved before the token is printed
    #[arg(long, env = "AUTHTOKEN_CACHE", global = true, value_name = "DIR")]
    pub(crate) cache: Option<PathBuf>,
    /// Keep tokens in a store shared with other processes: file:DIR (as --cache DIR), or
    /// `redis://[:PASSWORD@]HOST[:PORT][/DB]` (rediss:// for TLS) to share the token and
    /// the refresh chain with a fleet using auth-store-redis
    #[arg(
        long,
        env = "AUTHTOKEN_STORE",
        hide_env_values = true,
        global = true,
        value_name = "STORE",
        value_parser = StoreSpec::parse,
        conflicts_with = "cache"
    )]
    pub(crate) store: Option<StoreSpec>,
    /// With a Redis --store: the key prefix the fleet's RedisStore uses (its
    /// `key_prefix`)
    #[arg(
        long,
        env = "AUTHTOKEN_STORE_PREFIX",
        global = true,
        value_name = "PREFIX",
        default_value = ""
    )]
    pub(crate) store_prefix: String,
    /// Whose token this is in the cache (a seller, an account) [default: "default" for
    /// seller grants, "app" plus the scopes for client credentials and grantless]
    #[arg(long, env = "AUTHTOKEN_SUBJECT", global = true, value_name = "NAME")]
    pub(crate) subject: Option<String>,
}

impl Connection {
    /// The store the options name: `--store`, or `--cache DIR` as `file:DIR`.
    pub(crate) fn store(&self) -> Option<StoreSpec> {
        let store = self
            .store
            .clone()
            .or_else(|| self.cache.clone().map(StoreSpec::File))?;
        Some(match store {
            StoreSpec::Redis { url, .. } => StoreSpec::Redis {
                url,
                key_prefix: self.store_prefix.clone(),
            },
            file => file,
        })
    }
}

/// How `token` and `exchange-code` print the token.
#[derive(Args, Clone, Copy)]
pub(crate) struct Output {
    /// Print the token as JSON: access token, token type, expiry, scopes
    #[arg(long, conflicts_with = "header")]
    pub(crate) json: bool,
    /// Print a header line ready for `curl -H` (the header this vendor's API expects)
    #[arg(long)]
    pub(crate) header: bool,
    /// With --json: include the refresh token
    #[arg(long, requires = "json")]
    pub(crate) show_refresh_token: bool,
}

/// The refresh token and scopes that choose `token`'s grant.
#[derive(Args)]
pub(crate) struct Grant {
    /// A refresh token (the refresh grant). With --cache it only seeds an empty cache: a
    /// cached (newer, rotated) one wins. Prefer AUTHTOKEN_REFRESH_TOKEN
    #[arg(
        long,
        env = "AUTHTOKEN_REFRESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) refresh_token: Option<String>,
}

/// `--scope`, repeatable, each value one scope or several separated by spaces.
#[derive(Args)]
pub(crate) struct ScopeArg {
    /// Scopes, space-separated or repeated
    #[arg(long = "scope", env = "AUTHTOKEN_SCOPE", value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
}

impl ScopeArg {
    /// The scopes as one space-separated string, `None` if none were given.
    pub(crate) fn joined(&self) -> Option<String> {
        let joined = self
            .scopes
            .iter()
            .flat_map(|s| s.split_ascii_whitespace())
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    }
}

/// `exchange-code`'s code.
#[derive(Args)]
pub(crate) struct Code {
    /// The authorization code from the redirect (single use, minutes long); prefer
    /// AUTHTOKEN_CODE
    #[arg(
        long,
        env = "AUTHTOKEN_CODE",
        hide_env_values = true,
        value_name = "CODE"
    )]
    pub(crate) code: String,
}

/// A clap value parser for the vendor crates' `FromStr` types (environments, regions):
/// their error lists the accepted values.
pub(crate) fn parse<T: FromStr<Err = AuthError>>(value: &str) -> Result<T, String> {
    value.parse().map_err(|e: AuthError| match e {
        AuthError::InvalidConfig(message) => message,
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn scopes_join_repeated_and_space_separated_values() {
        let arg = ScopeArg {
            scopes: vec!["a b".into(), " c ".into()],
        };
        assert_eq!(arg.joined().as_deref(), Some("a b c"));
        assert_eq!(ScopeArg { scopes: vec![] }.joined(), None);
    }
}
