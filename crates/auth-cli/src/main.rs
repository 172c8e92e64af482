//! `authtoken`: OAuth access tokens for Easyship, Amazon Selling Partner API, Pitney Bowes
//! and Orange Connex on the command line, through the workspace's vendor crates.
//!
//! ```text
//! export AUTHTOKEN_CLIENT_ID=... AUTHTOKEN_CLIENT_SECRET=...
//! authtoken pitneybowes token --env sandbox                     # the access token
//! curl -H "$(authtoken amazon-sp token --header --cache ~/.cache/authtoken)" ...
//! authtoken easyship authorize-url --redirect-uri https://app.example/cb --scope "rate label"
//! authtoken easyship exchange-code --code ... --redirect-uri https://app.example/cb --cache DIR
//! authtoken easyship token --cache DIR                          # refreshes, rotates, saves
//! authtoken status --cache DIR                                  # what is cached, no secrets
//! authtoken demo                     # every flow of every vendor against local emulators
//! ```
//!
//! Exit codes: 0 success, 1 the vendor or the cache refused (authentication failure, store
//! error), 2 a usage error (clap's, or a configuration the vendor crate refused before
//! sending anything). Messages name the problem and the fix, and never hold a secret.
//!
//! One file per job: `cli.rs` the command line, `vendors/` one file per vendor (client and
//! grant from the options), `token.rs` the provider run shared by all four, `output.rs`
//! how a token prints, `cache.rs` the `--cache` directory, `status.rs` `authtoken status`,
//! `progress.rs` the spinner, `error.rs` exit codes and fixes, `demo/` `authtoken demo`.

use std::process::ExitCode;

use clap::Parser as _;

mod cache;
mod cli;
mod demo;
mod error;
mod output;
mod progress;
mod status;
mod token;
mod vendors;

fn main() -> ExitCode {
    // Usage errors: clap prints them and exits with 2.
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            error.exit_code()
        }
    }
}
