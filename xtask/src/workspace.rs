//! What `release` and `ci` share: running cargo, reading `cargo metadata`, the publish
//! order, and copying the workspace to a temporary directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Result;

/// `cargo`, the one that runs this xtask (`$CARGO`), in `dir`.
pub(crate) fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(dir);
    command
}

/// Runs `command`, echoing it first; fails with `what` and the exit status.
pub(crate) fn run_step(what: &str, command: &mut Command) -> Result<()> {
    println!("+ {}", show(command));
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status}): `{}`", show(command)).into())
    }
}

/// Runs `command` and returns its stdout; on failure the error quotes its stderr.
pub(crate) fn output_of(command: &mut Command) -> Result<String> {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output()?;
    if status.success() {
        Ok(String::from_utf8(stdout)?)
    } else {
        Err(format!(
            "`{}` failed ({status}):\n{}",
            show(command),
            String::from_utf8_lossy(&stderr).trim_end()
        )
        .into())
    }
}

/// A command as a shell-like line, for messages.
pub(crate) fn show(command: &Command) -> String {
    // `$CARGO` is a full path; the name is what a reader types.
    let program = Path::new(command.get_program());
    let mut line = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// One workspace member, as `cargo metadata` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) manifest_path: PathBuf,
    /// `false` for `publish = false`.
    pub(crate) publish: bool,
    /// The workspace members it depends on through normal or build dependencies (what
    /// must be on the registry before it can be published).
    pub(crate) depends_on: BTreeSet<String>,
}

impl Member {
    /// The crate's directory.
    pub(crate) fn dir(&self) -> &Path {
        self.manifest_path
            .parent()
            .expect("a manifest has a directory")
    }
}

/// The workspace members of the workspace at `root` (`cargo metadata --no-deps`).
pub(crate) fn members(root: &Path) -> Result<Vec<Member>> {
    let json = output_of(cargo(root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]))?;
    members_from_metadata(&json)
}

/// Parses `cargo metadata --no-deps` output into [`Member`]s.
pub(crate) fn members_from_metadata(json: &str) -> Result<Vec<Member>> {
    let metadata: serde_json::Value = serde_json::from_str(json)?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?;
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut members = Vec::new();
    for package in packages {
        let name = package["name"].as_str().ok_or("package without a name")?;
        let depends_on = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|dep| dep["kind"].is_null() || dep["kind"] == "build")
            .filter(|dep| dep["path"].is_string())
            .filter_map(|dep| dep["name"].as_str())
            .filter(|dep| names.contains(dep) && *dep != name)
            .map(str::to_owned)
            .collect();
        members.push(Member {
            name: name.to_owned(),
            version: package["version"].as_str().unwrap_or_default().to_owned(),
            manifest_path: PathBuf::from(package["manifest_path"].as_str().unwrap_or_default()),
            // `publish = false` is `[]`; null means any registry.
            publish: !package["publish"]
                .as_array()
                .is_some_and(|registries| registries.is_empty()),
            depends_on,
        });
    }
    Ok(members)
}

/// The published members in an order in which each comes after the members it depends
/// on (Kahn's algorithm; ties broken by name, so the order is stable).
///
/// # Errors
///
/// A published crate depending on an unpublished one (the registry could never have
/// it), or a dependency cycle.
pub(crate) fn publish_order(members: &[Member]) -> Result<Vec<String>> {
    let published: BTreeMap<&str, &Member> = members
        .iter()
        .filter(|m| m.publish)
        .map(|m| (m.name.as_str(), m))
        .collect();
    for member in published.values() {
        for dep in &member.depends_on {
            if !published.contains_key(dep.as_str()) {
                return Err(format!(
                    "{} depends on {dep}, which is `publish = false`: it cannot be published",
                    member.name
                )
                .into());
            }
        }
    }
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = published
        .iter()
        .map(|(name, m)| (*name, m.depends_on.iter().map(String::as_str).collect()))
        .collect();
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .ok_or_else(|| {
                format!(
                    "dependency cycle among {}",
                    remaining.keys().copied().collect::<Vec<_>>().join(", ")
                )
            })?;
        remaining.remove(ready);
        for deps in remaining.values_mut() {
            deps.remove(ready);
        }
        order.push(ready.to_owned());
    }
    Ok(order)
}

/// Copies the workspace at `from` into `to` (created), leaving out `target/` and `.git/`
/// at the top. Symbolic links are copied as the files they point to.
pub(crate) fn copy_workspace(from: &Path, to: &Path) -> Result<()> {
    fn copy_dir(from: &Path, to: &Path, top: bool) -> Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            if top && (name == "target" || name == ".git") {
                continue;
            }
            let source = entry.path();
            let dest = to.join(&name);
            if std::fs::metadata(&source)?.is_dir() {
                copy_dir(&source, &dest, false)?;
            } else {
                std::fs::copy(&source, &dest)?;
            }
        }
        Ok(())
    }
    copy_dir(from, to, true)
}

/// Fails unless `git status --porcelain` in `root` is empty.
pub(crate) fn require_clean_tree(root: &Path) -> Result<()> {
    let status = output_of(
        Command::new("git")
            .current_dir(root)
            .args(["status", "--porcelain"]),
    )?;
    if status.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the working tree is dirty; commit or stash these first:\n{}",
            status.trim_end()
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, publish: bool, deps: &[&str]) -> Member {
        Member {
            name: name.into(),
            version: "0.1.0".into(),
            manifest_path: PathBuf::from(format!("crates/{name}/Cargo.toml")),
            publish,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn publish_order_puts_dependencies_first_and_skips_private_crates() {
        let members = [
            member("b-vendor", true, &["core"]),
            member("a-vendor", true, &["core"]),
            member("core", true, &[]),
            member("xtask", false, &[]),
            member("top", true, &["a-vendor", "core"]),
        ];
        assert_eq!(
            publish_order(&members).unwrap(),
            ["core", "a-vendor", "b-vendor", "top"]
        );
    }

    #[test]
    fn publish_order_refuses_cycles_and_private_dependencies() {
        let cycle = [member("a", true, &["b"]), member("b", true, &["a"])];
        assert!(
            publish_order(&cycle)
                .unwrap_err()
                .to_string()
                .contains("cycle")
        );
        let private = [member("a", true, &["t"]), member("t", false, &[])];
        assert!(
            publish_order(&private)
                .unwrap_err()
                .to_string()
                .contains("publish = false")
        );
    }

    #[test]
    fn publish_order_of_this_workspace_starts_with_auth_core() {
        // On a temporary copy, so nothing in the real tree is touched.
        let temp = tempfile::tempdir().unwrap();
        copy_workspace(&crate::workspace_root(), temp.path()).unwrap();
        let members = members(temp.path()).unwrap();
        let order = publish_order(&members).unwrap();
        assert_eq!(order.first().map(String::as_str), Some("auth-core"));
        assert!(
            !order
                .iter()
                .any(|name| name == "xtask" || name == "workspace-tests")
        );
        // auth-core, the four vendor crates and auth-store-redis.
        assert_eq!(order.len(), 6, "{order:?}");
    }
}
