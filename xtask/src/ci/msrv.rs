//! The `rust-version` the published crates declare (the MSRV) must be honest.
//!
//! - No normal or build dependency of a published crate may declare a newer
//!   `rust-version` than ours (read from `cargo metadata`).
//! - Our own code: clippy's `incompatible_msrv` lint (on by default, and `-D warnings` in
//!   CI) refuses any standard-library API stabilised after our `rust-version`. The
//!   floor is 1.89: `std::fs::File::try_lock` (FileStore's lease) is stable since 1.89,
//!   and edition 2024 and let chains (1.85, 1.88) are below it.
//! - When a toolchain of exactly that version is installed (`rustup toolchain list`),
//!   the published crates are checked with it (`rustup run <version> cargo check`);
//!   otherwise this says it was skipped and how to install it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::Result;
use crate::workspace::{cargo, members, output_of, run_step};

pub(crate) fn check(root: &Path) -> Result<()> {
    let published: Vec<String> = members(root)?
        .into_iter()
        .filter(|m| m.publish)
        .map(|m| m.name)
        .collect();
    let json = output_of(cargo(root).args(["metadata", "--format-version", "1"]))?;
    let metadata: serde_json::Value = serde_json::from_str(&json)?;
    let packages: BTreeMap<&str, &serde_json::Value> = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: BTreeMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .ok_or("cargo metadata: no resolve")?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();

    let ours = packages
        .values()
        .filter(|p| published.iter().any(|n| p["name"] == n.as_str()))
        .map(|p| p["rust_version"].as_str().unwrap_or_default().to_owned())
        .collect::<std::collections::BTreeSet<_>>();
    if ours.len() != 1 {
        return Err("the published crates must declare one rust-version".into());
    }
    let msrv = ours.into_iter().next().unwrap_or_default();
    if msrv.is_empty() {
        return Err("the published crates declare no rust-version".into());
    }

    // Normal and build dependencies reachable from the published crates.
    let mut stack: Vec<&str> = packages
        .iter()
        .filter(|(_, p)| published.iter().any(|n| p["name"] == n.as_str()))
        .map(|(id, _)| *id)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes
            .get(id)
            .and_then(|n| n["deps"].as_array())
            .into_iter()
            .flatten()
        {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if let (true, Some(pkg)) = (normal, dep["pkg"].as_str()) {
                stack.push(pkg);
            }
        }
    }
    let newest = seen
        .iter()
        .filter_map(|id| {
            let p = packages.get(id)?;
            let version = p["rust_version"].as_str()?;
            Some((
                parse(version),
                version,
                p["name"].as_str().unwrap_or_default(),
            ))
        })
        .filter(|(_, _, name)| !published.iter().any(|n| n == name))
        .max();
    if let Some((version, text, name)) = newest {
        if version > parse(&msrv) {
            return Err(format!(
                "{name} needs Rust {text}, newer than our rust-version {msrv}: raise it"
            )
            .into());
        }
        println!("rust-version {msrv}; the most demanding dependency is {name} ({text})");
    }

    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let installed = toolchains.lines().find_map(|line| {
        let name = line.split_whitespace().next()?;
        let version = name.split('-').next()?;
        (version == msrv || version == format!("{msrv}.0")).then(|| name.to_owned())
    });
    match installed {
        Some(toolchain) => {
            let mut command = Command::new("rustup");
            command
                .current_dir(root)
                .env("CARGO_TARGET_DIR", root.join("target/msrv"))
                .args(["run", &toolchain, "cargo", "check"]);
            for name in &published {
                command.args(["-p", name]);
            }
            run_step("build with the MSRV toolchain", &mut command)?;
        }
        None => println!(
            "skipped building with Rust {msrv}: no such toolchain installed \
             (`rustup toolchain install {msrv}` to check it here)"
        ),
    }
    Ok(())
}

/// `1.89` or `1.89.0` as comparable numbers.
fn parse(version: &str) -> (u64, u64, u64) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}
