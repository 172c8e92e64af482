//! The dependency footprint of each vendor crate (and store crate), against reqwest alone.
//!
//! A user who depends on one vendor crate builds reqwest (with this workspace's reqwest
//! features and rustls' ring provider) plus what this project adds. The check builds a
//! throwaway crate in a temporary directory that depends on reqwest and rustls exactly as
//! `auth-core`'s default `rustls` feature does, with this workspace's `Cargo.lock` (so
//! the same versions, and no network), and compares the unique `name version` lines of
//! `cargo tree -e normal --prefix none`: what a vendor crate pulls beyond that baseline,
//! its own workspace crates left out, must stay within [`BUDGET`].
//!
//! It also checks that the `native-tls` feature replaces rustls and ring instead of
//! adding OpenSSL beside them: `--no-default-features --features native-tls` must leave
//! neither `rustls` nor `ring` in a vendor crate's tree.

use std::collections::BTreeSet;
use std::path::Path;

use crate::Result;
use crate::workspace::{cargo, members, output_of};

/// Most crates a vendor crate may add beyond reqwest + ring: the goal, 20.
///
/// 29 before the cuts of tracing's `attributes`, tokio's `macros`, base64 0.22,
/// getrandom 0.3, chrono's `clock`, and serde_with's `macros` (the vendor crates' wire
/// types use `#[serde(with = "serde_with::As::<..>")]` instead of `#[serde_as]`, which
/// pulled in `darling` and five more proc-macro crates).
pub(crate) const BUDGET: usize = 20;

/// Most crates a store crate (`auth-store-*`) may add beyond reqwest + ring. A store
/// crate is not a vendor crate: its users chose its backend's client. auth-store-redis
/// measures 28: auth-core's own 17 or so plus redis 1.x without its default features
/// (redis, combine, sha1_smol, xxhash-rust, ryu, arcstr, backon, async-lock,
/// event-listener, event-listener-strategy, parking, fastrand).
pub(crate) const STORE_BUDGET: usize = 30;

/// A store crate: measured against [`STORE_BUDGET`]; it has no TLS feature of auth-core's
/// to check.
fn is_store_crate(name: &str) -> bool {
    name.starts_with("auth-store-")
}

/// The vendor crates measured (every published crate but the core).
fn vendor_crates(root: &Path) -> Result<Vec<String>> {
    Ok(members(root)?
        .into_iter()
        .filter(|m| m.publish && m.name != "auth-core")
        .map(|m| m.name)
        .collect())
}

pub(crate) fn check(root: &Path) -> Result<()> {
    let workspace: BTreeSet<String> = members(root)?.into_iter().map(|m| m.name).collect();
    let baseline = baseline(root)?;
    println!(
        "baseline: reqwest + rustls/ring alone: {} crates",
        baseline.len()
    );
    let mut problems = Vec::new();
    for name in vendor_crates(root)? {
        let normal = tree(root, &["-p", &name])?;
        let extra: Vec<&String> = normal
            .iter()
            .filter(|line| !baseline.contains(*line))
            .filter(|line| {
                !line
                    .split(' ')
                    .next()
                    .is_some_and(|n| workspace.contains(n))
            })
            .collect();
        let budget = if is_store_crate(&name) {
            STORE_BUDGET
        } else {
            BUDGET
        };
        println!(
            "{name}: {} crates, {} beyond reqwest (budget {budget})",
            normal.len(),
            extra.len()
        );
        if extra.len() > budget {
            problems.push(format!(
                "{name} pulls {} crates beyond reqwest, over the budget of {budget}: {}",
                extra.len(),
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if is_store_crate(&name) {
            continue;
        }
        let native = tree(
            root,
            &[
                "-p",
                &name,
                "--no-default-features",
                "--features",
                "native-tls",
            ],
        )?;
        let both: Vec<&String> = native
            .iter()
            .filter(|line| matches!(line.split(' ').next(), Some("rustls" | "ring")))
            .collect();
        if !both.is_empty() {
            problems.push(format!(
                "{name} with only `native-tls` still builds {}: the feature must replace \
                 rustls, not add OpenSSL beside it",
                both.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// The unique `name version` lines of `cargo tree -e normal --prefix none <args>`.
fn tree(dir: &Path, args: &[&str]) -> Result<BTreeSet<String>> {
    let out = output_of(
        cargo(dir)
            .args(["tree", "-e", "normal", "--prefix", "none"])
            .args(args),
    )?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .collect())
}

/// The tree of a throwaway crate depending on reqwest and rustls the way auth-core's
/// default features do.
fn baseline(root: &Path) -> Result<BTreeSet<String>> {
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))?.parse()?;
    let core: toml::Table =
        std::fs::read_to_string(root.join("crates/auth-core/Cargo.toml"))?.parse()?;
    let deps = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .ok_or("no [workspace.dependencies]")?;
    let mut reqwest = deps
        .get("reqwest")
        .and_then(|r| r.as_table())
        .ok_or("no reqwest in [workspace.dependencies]")?
        .clone();
    let mut rustls = deps
        .get("rustls")
        .and_then(|r| r.as_table())
        .ok_or("no rustls in [workspace.dependencies]")?
        .clone();
    // auth-core's default feature is `rustls`: the reqwest features it turns on.
    let extra: Vec<toml::Value> = core
        .get("features")
        .and_then(|f| f.get("rustls"))
        .and_then(|f| f.as_array())
        .ok_or("auth-core has no `rustls` feature")?
        .iter()
        .filter_map(|f| f.as_str()?.strip_prefix("reqwest/"))
        .map(|f| toml::Value::String(f.to_owned()))
        .collect();
    let features = reqwest
        .entry("features")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(list) = features.as_array_mut() {
        list.extend(extra);
    }
    rustls.remove("optional");
    reqwest.remove("optional");

    let mut dependencies = toml::Table::new();
    dependencies.insert("reqwest".into(), toml::Value::Table(reqwest));
    dependencies.insert("rustls".into(), toml::Value::Table(rustls));
    let mut package = toml::Table::new();
    package.insert("name".into(), "reqwest-baseline".into());
    package.insert("version".into(), "0.0.0".into());
    package.insert("edition".into(), "2024".into());
    package.insert("publish".into(), false.into());
    let mut baseline = toml::Table::new();
    baseline.insert("package".into(), toml::Value::Table(package));
    baseline.insert("dependencies".into(), toml::Value::Table(dependencies));
    // Its own workspace, not a member of any enclosing one.
    baseline.insert("workspace".into(), toml::Value::Table(toml::Table::new()));

    let temp = tempfile::Builder::new()
        .prefix("xtask-footprint-")
        .tempdir()?;
    std::fs::create_dir(temp.path().join("src"))?;
    std::fs::write(temp.path().join("src/lib.rs"), "")?;
    std::fs::write(temp.path().join("Cargo.toml"), toml::to_string(&baseline)?)?;
    // The workspace's versions; cargo drops the entries this crate does not use.
    std::fs::copy(root.join("Cargo.lock"), temp.path().join("Cargo.lock"))?;
    let mut tree = tree(temp.path(), &[])?;
    tree.retain(|line| !line.starts_with("reqwest-baseline "));
    Ok(tree)
}
