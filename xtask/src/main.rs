//! `cargo xtask`: project automation (alias in `.cargo/config.toml`).
//!
//! Each subcommand is one module with an `Args` struct (clap) and a
//! `run(&Args) -> Result<()>`; adding one is one variant of [`Command`] and one match arm.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod ci;
mod codegen;
mod release;
mod workspace;

/// The error every subcommand returns; `main` prints it and exits with status 1.
type Error = Box<dyn std::error::Error>;
/// Result of a subcommand.
type Result<T, E = Error> = std::result::Result<T, E>;

/// Project automation for the vendor OAuth token crates.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate `crates/*/src/generated/*.rs` from `crates/*/spec/*.toml`.
    Codegen(codegen::Args),
    /// Run the benchmarks and print the hot-path and token-fetch tables for README.md.
    Bench(bench::Args),
    /// Run every CI check, plus the release checks (packages, changelogs, MSRV, footprint).
    Ci(ci::Args),
    /// Bump versions and changelogs, and prove the crates would publish (dry run by default).
    Release(release::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Codegen(args) => codegen::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Ci(args) => ci::run(args),
        Command::Release(args) => release::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
