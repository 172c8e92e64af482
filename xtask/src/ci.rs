//! `cargo xtask ci`: every check CI runs, plus what a release needs.
//!
//! In order, stopping at the first failure:
//!
//! 1. `cargo fmt --all --check`
//! 2. `cargo xtask codegen --check`
//! 3. `cargo clippy --workspace --all-targets -- -D warnings`
//! 4. `cargo test --workspace` (left out with `--skip-tests`: `.ci/run` runs the README's
//!    test command itself)
//! 5. `RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps`
//! 6. `cargo deny check bans licenses sources`
//! 7. release readiness ([`packages`]): every published crate packages and builds from
//!    its `.crate` file, its package holds no credential-looking value and nothing over
//!    the size limits, and its version agrees with its CHANGELOG.md;
//! 8. the MSRV ([`msrv`]) and the dependency footprint ([`footprint`]).
//!
//! `--only release` runs steps 7 and 8 alone.

use crate::workspace::{cargo, run_step};
use crate::{Result, workspace_root};

mod footprint;
mod msrv;
mod packages;

/// Arguments of `cargo xtask ci`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Leave out `cargo test --workspace` (for `.ci/run`, which runs it as its own step).
    #[arg(long)]
    skip_tests: bool,
    /// Run only the release checks (packages, changelogs, MSRV, footprint).
    #[arg(long, value_parser = ["release"])]
    only: Option<String>,
}

pub(crate) fn run(args: &Args) -> Result<()> {
    let root = workspace_root();
    if args.only.is_none() {
        step("format");
        run_step(
            "format check",
            cargo(&root).args(["fmt", "--all", "--check"]),
        )?;
        step("generated code is up to date");
        let xtask = std::env::current_exe()?;
        run_step(
            "codegen check",
            std::process::Command::new(xtask)
                .current_dir(&root)
                .args(["codegen", "--check"]),
        )?;
        step("lint");
        run_step(
            "clippy",
            cargo(&root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
        if args.skip_tests {
            step("test: skipped (--skip-tests)");
        } else {
            step("test (unit, integration and doctests)");
            run_step("tests", cargo(&root).args(["test", "--workspace"]))?;
        }
        step("docs");
        run_step(
            "docs",
            cargo(&root).env("RUSTDOCFLAGS", "-D warnings").args([
                "doc",
                "--workspace",
                "--no-deps",
            ]),
        )?;
        step("dependency policy");
        run_step(
            "cargo deny",
            cargo(&root).args(["deny", "check", "bans", "licenses", "sources"]),
        )?;
    }
    step("release: packages, their contents and changelogs");
    packages::check(&root)?;
    step("release: minimum supported Rust version");
    msrv::check(&root)?;
    step("release: dependency footprint");
    footprint::check(&root)?;
    step("cargo xtask ci: every check passed");
    Ok(())
}

fn step(name: &str) {
    println!("\n==> {name}");
}
