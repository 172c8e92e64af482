//! What `authtoken` reports when it fails: the problem, the fix, and the exit code.
//!
//! Every message comes from [`AuthError`]'s `Display` (which never holds a secret) or from
//! text written here; no value of a secret option is ever formatted into one.

use std::fmt;
use std::process::ExitCode;

use auth_core::{AuthError, OAuthErrorCode};

/// Exit code of a usage error (clap uses the same).
const USAGE: u8 = 2;
/// Exit code of an authentication failure or any other failure at run time.
const FAILURE: u8 = 1;

/// A failed command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The command line asks for something impossible (exit 2); nothing was sent.
    Usage(String),
    /// The vendor crate or the vendor refused, or the cache failed (exit 1, or 2 when the
    /// vendor crate refused the configuration before sending anything).
    Auth {
        /// The vendor's command name (`easyship`), for the fix.
        vendor: &'static str,
        /// Whether the vendor has a browser step (`authorize-url`).
        authorizes: bool,
        /// Boxed: an error travels up once, and a small `Result` keeps every call cheap.
        error: Box<AuthError>,
    },
    /// Anything else at run time (exit 1).
    Other(String),
}

impl CliError {
    /// A usage error.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// The process's exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Usage(_) => USAGE,
            Self::Auth { error, .. } if is_configuration(error) => USAGE,
            Self::Auth { .. } | Self::Other(_) => FAILURE,
        })
    }
}

/// Errors the vendor crates raise before sending anything: the command line is wrong.
fn is_configuration(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::InvalidConfig(_) | AuthError::InvalidScope { .. }
    )
}

/// Maps an [`AuthError`] from `vendor` to a [`CliError`].
pub(crate) fn auth(vendor: &'static str, authorizes: bool) -> impl Fn(AuthError) -> CliError {
    move |error| CliError::Auth {
        vendor,
        authorizes,
        error: Box::new(error),
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => {
                write!(f, "error: {message}\n\nFor more information, try '--help'.")
            }
            Self::Other(message) => write!(f, "error: {message}"),
            Self::Auth {
                vendor,
                authorizes,
                error,
            } => {
                write!(f, "error: {vendor}: {error}")?;
                if let Some(fix) = fix(vendor, *authorizes, error) {
                    write!(f, "\nfix: {fix}")?;
                }
                Ok(())
            }
        }
    }
}

/// What the user should do next, in terms of this command line.
fn fix(vendor: &str, authorizes: bool, error: &AuthError) -> Option<String> {
    let reauthorize = || {
        if authorizes {
            format!(
                "the seller must authorize the app again: run `authtoken {vendor} authorize-url`, \
                 then `authtoken {vendor} exchange-code` with the code (add --cache DIR to keep it)"
            )
        } else {
            "check the credentials: the vendor refused the grant".to_owned()
        }
    };
    match error {
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidGrant,
            ..
        } => Some(reauthorize()),
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidClient | OAuthErrorCode::UnauthorizedClient,
            ..
        } => Some(
            "check --client-id and --client-secret (AUTHTOKEN_CLIENT_ID, AUTHTOKEN_CLIENT_SECRET) \
             for the --env environment"
                .to_owned(),
        ),
        AuthError::NoRefreshToken => Some(format!(
            "give --refresh-token (or AUTHTOKEN_REFRESH_TOKEN), or seed the cache with \
             `authtoken {vendor} exchange-code --cache DIR`"
        )),
        AuthError::Transport { .. } | AuthError::Timeout { .. } => Some(
            "check the network, or --token-url / --base-url if you set them; then try again"
                .to_owned(),
        ),
        AuthError::OutcomeUnknown { .. } => Some(
            "run the same command again with the same --cache: the next refresh tells whether \
             the refresh token still works"
                .to_owned(),
        ),
        AuthError::StoreUnavailable { .. } => Some(
            "the token store could not be reached: check that it is running and reachable, \
             then try again"
                .to_owned(),
        ),
        AuthError::Store { .. } => {
            Some("check that the --cache directory is writable by this user".to_owned())
        }
        AuthError::InvalidConfig(_) | AuthError::InvalidScope { .. } => Some(format!(
            "see `authtoken {vendor} <command> --help`: each option has its AUTHTOKEN_* \
             variable"
        )),
        _ if error.is_retryable() => Some("the vendor is busy or failing: try again later".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_grant_names_the_command_that_fixes_it() {
        let error = auth("easyship", true)(AuthError::oauth(
            OAuthErrorCode::InvalidGrant,
            None,
            Some(400),
        ));
        let text = error.to_string();
        assert!(text.contains("invalid_grant"), "{text}");
        assert!(
            text.contains("run `authtoken easyship authorize-url`"),
            "{text}"
        );
        assert_eq!(error.exit_code(), ExitCode::from(FAILURE));
    }

    #[test]
    fn a_configuration_the_vendor_crate_refused_is_a_usage_error() {
        let error = auth("amazon-sp", true)(AuthError::InvalidConfig("no client id".into()));
        assert_eq!(error.exit_code(), ExitCode::from(USAGE));
    }
}
