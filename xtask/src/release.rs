//! `cargo xtask release <version|major|minor|patch> [--crate NAME]... [--execute]`.
//!
//! Prepares a release of the published crates and proves it would publish:
//!
//! 1. refuses a dirty tree (`git status --porcelain`);
//! 2. computes the new versions and prints the plan: the publish order comes from
//!    `cargo metadata` (each crate after the workspace crates it depends on);
//! 3. on a temporary copy of the workspace, bumps the versions, moves each crate's
//!    CHANGELOG.md "Unreleased" section under the new version with today's date, then
//!    runs `cargo package` and `cargo publish --dry-run` over the crates in that order
//!    (one cargo call each: cargo 1.90+ packages several crates against each other
//!    through a local registry, so a new auth-core version need not be published for
//!    the vendor crates to verify), and `cargo semver-checks` against the previous
//!    release when it is installed and there is one;
//! 4. stops at the first failure with the command that failed.
//!
//! Without `--execute` nothing in the tree changes. With `--execute` the same version
//! and changelog edits (and `Cargo.lock`) are written to the tree once every check has
//! passed; nothing is committed, tagged or published: review the diff, commit, tag, and
//! publish with `cargo publish --workspace`.
//!
//! Versions: without `--crate`, the crates move together (`[workspace.package]
//! version` and every `version =` of the inter-crate path dependencies in
//! `[workspace.dependencies]`). With `--crate NAME` (repeatable) only those crates are
//! released: each gets its own `version = "..."` in its manifest (no longer inherited)
//! and its `[workspace.dependencies]` entry follows.

use std::collections::BTreeMap;
use std::path::Path;

use crate::workspace::{
    Member, cargo, copy_workspace, members, output_of, publish_order, require_clean_tree, run_step,
};
use crate::{Result, workspace_root};

/// Arguments of `cargo xtask release`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The new version (`1.2.3`), or the part to bump: `major`, `minor` or `patch`.
    level: String,
    /// Release only this crate (repeatable); by default every published crate.
    #[arg(long = "crate", value_name = "NAME")]
    crates: Vec<String>,
    /// Write the version and changelog changes into the tree (commits nothing).
    #[arg(long)]
    execute: bool,
}

pub(crate) fn run(args: &Args) -> Result<()> {
    let root = workspace_root();
    require_clean_tree(&root)?;
    let members = members(&root)?;
    let plan = Plan::new(&root, &members, &args.level, &args.crates, &today())?;
    plan.print();

    let temp = tempfile::Builder::new()
        .prefix("xtask-release-")
        .tempdir()?;
    let copy = temp.path().join("workspace");
    copy_workspace(&root, &copy)?;
    println!("\nchecking on a temporary copy: {}", copy.display());
    plan.apply(&copy)?;
    plan.check(&copy, &root)?;

    if args.execute {
        plan.apply(&root)?;
        println!(
            "\nwrote the new versions, CHANGELOG.md sections and Cargo.lock into the tree.\n\
             Nothing is committed, tagged or published: review `git diff`, commit, tag, then \
             `cargo publish {}`.",
            plan.package_args().join(" ")
        );
    } else {
        println!(
            "\ndry run: every check passed and nothing in the tree changed. \
             Run again with --execute to write the changes."
        );
    }
    Ok(())
}

/// `major` / `minor` / `patch`, or an explicit version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Level {
    Major,
    Minor,
    Patch,
    Exact(semver::Version),
}

impl std::str::FromStr for Level {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "major" => Self::Major,
            "minor" => Self::Minor,
            "patch" => Self::Patch,
            other => Self::Exact(semver::Version::parse(other).map_err(|e| {
                format!("`{other}` is neither major, minor, patch nor a version: {e}")
            })?),
        })
    }
}

/// The version after `current` at `level`.
///
/// A pre-release is released by the bump that keeps its numbers (`1.0.0-rc.1` patch ->
/// `1.0.0`); build metadata is dropped. An explicit version must be greater than
/// `current`.
pub(crate) fn bump(current: &semver::Version, level: &Level) -> Result<semver::Version> {
    let pre = !current.pre.is_empty();
    let (major, minor, patch) = (current.major, current.minor, current.patch);
    let next = match level {
        Level::Major if pre && minor == 0 && patch == 0 => semver::Version::new(major, 0, 0),
        Level::Major => semver::Version::new(major + 1, 0, 0),
        Level::Minor if pre && patch == 0 => semver::Version::new(major, minor, 0),
        Level::Minor => semver::Version::new(major, minor + 1, 0),
        Level::Patch if pre => semver::Version::new(major, minor, patch),
        Level::Patch => semver::Version::new(major, minor, patch + 1),
        Level::Exact(version) => {
            if version <= current {
                return Err(format!(
                    "the new version {version} is not greater than the current {current}"
                )
                .into());
            }
            version.clone()
        }
    };
    Ok(next)
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    date_from_days(secs / 86_400)
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn date_from_days(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// What a release changes, computed before anything is touched.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Crates to release, in publish order, with their current and new versions.
    crates: Vec<(Member, semver::Version)>,
    /// `Some(new)` when the crates move together through `[workspace.package]`.
    workspace_version: Option<semver::Version>,
    date: String,
}

impl Plan {
    pub(crate) fn new(
        root: &Path,
        members: &[Member],
        level: &str,
        only: &[String],
        date: &str,
    ) -> Result<Self> {
        let level: Level = level.parse()?;
        let order = publish_order(members)?;
        let by_name: BTreeMap<&str, &Member> =
            members.iter().map(|m| (m.name.as_str(), m)).collect();
        for name in only {
            match by_name.get(name.as_str()) {
                None => return Err(format!("no workspace crate is named `{name}`").into()),
                Some(m) if !m.publish => {
                    return Err(format!("`{name}` is `publish = false`").into());
                }
                Some(_) => {}
            }
        }
        let selected: Vec<&Member> = order
            .iter()
            .filter(|name| only.is_empty() || only.contains(name))
            .map(|name| by_name[name.as_str()])
            .collect();
        let workspace_version = if only.is_empty() {
            let current = workspace_package_version(root)?;
            if let Some(m) = selected.iter().find(|m| m.version != current.to_string()) {
                return Err(format!(
                    "{} has version {} of its own, not the workspace's {current}: \
                     release it with --crate {}",
                    m.name, m.version, m.name
                )
                .into());
            }
            Some(bump(&current, &level)?)
        } else {
            None
        };
        let crates = selected
            .into_iter()
            .map(|m| {
                let new = match &workspace_version {
                    Some(v) => v.clone(),
                    None => bump(&semver::Version::parse(&m.version)?, &level)?,
                };
                Ok((m.clone(), new))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            crates,
            workspace_version,
            date: date.to_owned(),
        })
    }

    fn print(&self) {
        println!("release plan (publish order), dated {}:", self.date);
        for (member, new) in &self.crates {
            println!("  {:<20} {} -> {new}", member.name, member.version);
        }
        match &self.workspace_version {
            Some(v) => println!("  [workspace.package] version -> {v}"),
            None => println!("  each crate gets its own `version` in its Cargo.toml"),
        }
    }

    /// `-p NAME` for every crate, in publish order.
    fn package_args(&self) -> Vec<String> {
        self.crates
            .iter()
            .flat_map(|(m, _)| ["-p".to_owned(), m.name.clone()])
            .collect()
    }

    /// Writes the version and changelog changes into the workspace at `root` (the real
    /// one or a copy with the same layout), then updates its `Cargo.lock`.
    pub(crate) fn apply(&self, root: &Path) -> Result<()> {
        let real_root = workspace_root();
        // Crate paths as seen from `root`.
        let relocate = |member: &Member| -> Result<std::path::PathBuf> {
            let rel = member
                .dir()
                .strip_prefix(&real_root)
                .or_else(|_| member.dir().strip_prefix(root))
                .map_err(|_| format!("{} is outside the workspace", member.name))?;
            Ok(root.join(rel))
        };
        let manifest_path = root.join("Cargo.toml");
        let mut manifest = std::fs::read_to_string(&manifest_path)?;
        if let Some(v) = &self.workspace_version {
            manifest = set_version_in_section(&manifest, "workspace.package", &v.to_string())?;
        }
        for (member, new) in &self.crates {
            manifest = set_workspace_dependency_version(&manifest, &member.name, &new.to_string())?;
            let dir = relocate(member)?;
            if self.workspace_version.is_none() {
                let path = dir.join("Cargo.toml");
                let text = std::fs::read_to_string(&path)?;
                std::fs::write(
                    &path,
                    set_version_in_section(&text, "package", &new.to_string())?,
                )?;
            }
            let path = dir.join("CHANGELOG.md");
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let text = release_changelog(&text, &new.to_string(), &self.date)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            std::fs::write(&path, text)?;
        }
        std::fs::write(&manifest_path, manifest)?;
        // Only the workspace members' own entries change.
        output_of(cargo(root).args(["update", "--workspace", "--offline"]))?;
        Ok(())
    }

    /// `cargo package`, `cargo publish --dry-run` and `cargo semver-checks` on `copy`.
    fn check(&self, copy: &Path, root: &Path) -> Result<()> {
        let target = root.join("target");
        let packages = self.package_args();
        println!("\n==> cargo package (builds each crate from its .crate file)");
        run_step(
            "cargo package",
            cargo(copy)
                .env("CARGO_TARGET_DIR", &target)
                .arg("package")
                .args(&packages),
        )?;
        println!("\n==> cargo publish --dry-run (uploads nothing)");
        run_step(
            "cargo publish --dry-run (it needs the crates.io index)",
            cargo(copy)
                .env("CARGO_TARGET_DIR", &target)
                .args(["publish", "--dry-run", "--no-verify"])
                .args(&packages),
        )?;
        println!("\n==> cargo semver-checks");
        if cargo(copy)
            .args(["semver-checks", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            for (member, _) in &self.crates {
                let Some(previous) = previous_release(&member.dir().join("CHANGELOG.md"))? else {
                    println!(
                        "{}: no previous release in CHANGELOG.md, nothing to compare",
                        member.name
                    );
                    continue;
                };
                run_step(
                    "cargo semver-checks",
                    cargo(copy)
                        .env("CARGO_TARGET_DIR", &target)
                        .args(["semver-checks", "check-release", "-p", &member.name])
                        .args(["--baseline-version", &previous]),
                )?;
            }
        } else {
            println!(
                "skipped: cargo-semver-checks is not installed \
                 (`cargo install --locked cargo-semver-checks`, about 6 minutes)"
            );
        }
        Ok(())
    }
}

/// `[workspace.package] version` of the manifest at `root`.
fn workspace_package_version(root: &Path) -> Result<semver::Version> {
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))?.parse()?;
    let version = manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .ok_or("Cargo.toml has no [workspace.package] version")?;
    Ok(semver::Version::parse(version)?)
}

/// Replaces the `version` line of `[section]` (`version = "..."` or
/// `version.workspace = true`) with `version = "<version>"`, keeping everything else
/// byte for byte.
pub(crate) fn set_version_in_section(
    manifest: &str,
    section: &str,
    version: &str,
) -> Result<String> {
    let header = format!("[{section}]");
    let mut in_section = false;
    let mut done = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == header;
        } else if in_section && !done {
            let key = trimmed.split(['=', ' ']).next().unwrap_or_default();
            if key == "version" || key == "version.workspace" {
                let newline = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!("version = \"{version}\"{newline}"));
                done = true;
                continue;
            }
        }
        out.push_str(line);
    }
    if done {
        Ok(out)
    } else {
        Err(format!("no version in [{section}]").into())
    }
}

/// Sets `version = "..."` in `name = { path = ..., version = "..." }` of
/// `[workspace.dependencies]`.
pub(crate) fn set_workspace_dependency_version(
    manifest: &str,
    name: &str,
    version: &str,
) -> Result<String> {
    let mut in_section = false;
    let mut done = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == "[workspace.dependencies]";
        } else if in_section
            && !done
            && trimmed.split([' ', '=']).next() == Some(name)
            && trimmed.contains("path")
        {
            let start = line
                .find("version = \"")
                .ok_or_else(|| format!("[workspace.dependencies] {name} has no version"))?
                + "version = \"".len();
            let end = start + line[start..].find('"').ok_or("unterminated version")?;
            out.push_str(&line[..start]);
            out.push_str(version);
            out.push_str(&line[end..]);
            done = true;
            continue;
        }
        out.push_str(line);
    }
    if done {
        Ok(out)
    } else {
        Err(format!("no path dependency `{name}` in [workspace.dependencies]").into())
    }
}

const UNRELEASED: &str = "## [Unreleased]";

/// Moves the "Unreleased" section of a Keep a Changelog file under `## [version] -
/// date`, leaving an empty "Unreleased" section above it. An empty "Unreleased" is
/// released as "No notable changes.".
pub(crate) fn release_changelog(text: &str, version: &str, date: &str) -> Result<String> {
    let start = text
        .find(UNRELEASED)
        .ok_or("no `## [Unreleased]` section (Keep a Changelog)")?;
    if released_versions(text).iter().any(|v| v == version) {
        return Err(format!("version {version} is already in the changelog").into());
    }
    let body_start = start + UNRELEASED.len();
    let body_end = text[body_start..]
        .find("\n## ")
        .map_or(text.len(), |i| body_start + i + 1);
    let body = text[body_start..body_end].trim();
    let body = if body.is_empty() {
        "No notable changes."
    } else {
        body
    };
    let rest = &text[body_end..];
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..start]);
    out.push_str(&format!(
        "{UNRELEASED}\n\n## [{version}] - {date}\n\n{body}\n"
    ));
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    Ok(out)
}

/// The released versions of a changelog, newest first (`## [x.y.z] - date` headings).
pub(crate) fn released_versions(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("## ["))
        .filter_map(|rest| rest.split_once(']'))
        .map(|(version, _)| version.to_owned())
        .filter(|version| version != "Unreleased")
        .collect()
}

/// The newest released version in the changelog at `path`, if any.
fn previous_release(path: &Path) -> Result<Option<String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(released_versions(&text).into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn bump_follows_semver_including_zero_major_and_pre_releases() {
        let cases = [
            ("0.1.0", "patch", "0.1.1"),
            ("0.1.0", "minor", "0.2.0"),
            ("0.1.0", "major", "1.0.0"),
            ("1.2.3", "patch", "1.2.4"),
            ("1.2.3", "minor", "1.3.0"),
            ("1.2.3", "major", "2.0.0"),
            ("1.0.0-rc.1", "patch", "1.0.0"),
            ("1.0.0-rc.1", "major", "1.0.0"),
            ("1.1.0-rc.1", "minor", "1.1.0"),
            ("1.1.1-rc.1", "minor", "1.2.0"),
            ("0.1.0", "0.3.0-beta.1", "0.3.0-beta.1"),
        ];
        for (current, level, expected) in cases {
            let got = bump(&v(current), &level.parse().unwrap()).unwrap();
            assert_eq!(got, v(expected), "{current} {level}");
        }
    }

    #[test]
    fn bump_refuses_an_explicit_version_that_is_not_greater() {
        for target in ["0.1.0", "0.0.9", "0.1.0-rc.1"] {
            assert!(
                bump(&v("0.1.0"), &target.parse().unwrap()).is_err(),
                "{target}"
            );
        }
        assert!("mayor".parse::<Level>().is_err());
    }

    #[test]
    fn dates_are_civil_utc_days() {
        assert_eq!(date_from_days(0), "1970-01-01");
        assert_eq!(date_from_days(19_782), "2024-02-29");
        assert_eq!(date_from_days(20_000), "2024-10-04");
    }

    const CHANGELOG: &str = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### Added\n\n- A thing.\n\n## [0.1.0] - 2026-01-02\n\n### Added\n\n- First.\n";

    #[test]
    fn release_changelog_moves_unreleased_under_the_version() {
        let out = release_changelog(CHANGELOG, "0.2.0", "2026-12-01").unwrap();
        assert_eq!(
            out,
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n\n### Added\n\n- A thing.\n\n## [0.1.0] - 2026-01-02\n\n### Added\n\n- First.\n"
        );
        assert_eq!(released_versions(&out), ["0.2.0", "0.1.0"]);
        // Releasing the same version twice is refused.
        assert!(release_changelog(&out, "0.2.0", "2026-12-02").is_err());
    }

    #[test]
    fn release_changelog_handles_a_first_release_and_an_empty_section() {
        let first = "# Changelog\n\n## [Unreleased]\n\n- Everything.\n";
        assert_eq!(
            release_changelog(first, "0.1.0", "2026-12-01").unwrap(),
            "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-12-01\n\n- Everything.\n"
        );
        let empty = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n\n- First.\n";
        let out = release_changelog(empty, "0.1.1", "2026-12-01").unwrap();
        assert!(out.contains("## [0.1.1] - 2026-12-01\n\nNo notable changes.\n\n## [0.1.0]"));
        assert!(release_changelog("# Changelog\n", "0.1.0", "2026-12-01").is_err());
    }

    #[test]
    fn manifest_edits_touch_only_the_version_lines() {
        let manifest = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace.dependencies]\nauth-core = { path = \"crates/auth-core\", version = \"0.1.0\", default-features = false }\nauth-core-extra = { path = \"x\", version = \"0.1.0\" }\nserde = { version = \"1.0\" }\n";
        let out = set_version_in_section(manifest, "workspace.package", "0.2.0").unwrap();
        let out = set_workspace_dependency_version(&out, "auth-core", "0.2.0").unwrap();
        assert_eq!(
            out,
            manifest
                .replacen(
                    "version = \"0.1.0\"\nedition",
                    "version = \"0.2.0\"\nedition",
                    1
                )
                .replacen(
                    "auth-core\", version = \"0.1.0\"",
                    "auth-core\", version = \"0.2.0\"",
                    1
                )
        );
        assert!(set_workspace_dependency_version(manifest, "serde", "2.0.0").is_err());
        let package = "[package]\nname = \"a\"\nversion.workspace = true\n\n[dependencies]\nversion = \"x\"\n";
        assert_eq!(
            set_version_in_section(package, "package", "0.1.1").unwrap(),
            "[package]\nname = \"a\"\nversion = \"0.1.1\"\n\n[dependencies]\nversion = \"x\"\n"
        );
    }

    /// The whole edit on a temporary copy of this workspace: versions, dependency
    /// versions, changelogs and Cargo.lock, read back through `cargo metadata`.
    #[test]
    fn plan_applied_to_a_copy_of_the_workspace_bumps_everything_together() {
        let temp = tempfile::tempdir().unwrap();
        let copy = temp.path().join("ws");
        copy_workspace(&workspace_root(), &copy).unwrap();
        let before = members(&copy).unwrap();
        let plan = Plan::new(&copy, &before, "minor", &[], "2026-12-01").unwrap();
        let current = v(&before[0].version);
        let expected = bump(&current, &Level::Minor).unwrap().to_string();
        plan.apply(&copy).unwrap();

        let after = members(&copy).unwrap();
        for m in after.iter().filter(|m| m.publish) {
            assert_eq!(m.version, expected, "{}", m.name);
            let changelog = std::fs::read_to_string(m.dir().join("CHANGELOG.md")).unwrap();
            assert_eq!(released_versions(&changelog)[0], expected, "{}", m.name);
            assert!(changelog.contains(&format!("## [{expected}] - 2026-12-01")));
        }
        let manifest = std::fs::read_to_string(copy.join("Cargo.toml")).unwrap();
        let needle = format!("path = \"crates/auth-core\", version = \"{expected}\"");
        assert!(manifest.contains(&needle), "{manifest}");
        let lock = std::fs::read_to_string(copy.join("Cargo.lock")).unwrap();
        assert!(lock.contains(&format!("name = \"auth-core\"\nversion = \"{expected}\"")));
    }

    #[test]
    fn plan_for_one_crate_gives_it_a_version_of_its_own() {
        let temp = tempfile::tempdir().unwrap();
        let copy = temp.path().join("ws");
        copy_workspace(&workspace_root(), &copy).unwrap();
        let before = members(&copy).unwrap();
        let old = before
            .iter()
            .find(|m| m.name == "auth-pitneybowes")
            .unwrap()
            .version
            .clone();
        let plan = Plan::new(
            &copy,
            &before,
            "patch",
            &["auth-pitneybowes".into()],
            "2026-12-01",
        )
        .unwrap();
        plan.apply(&copy).unwrap();
        let after = members(&copy).unwrap();
        let expected = bump(&v(&old), &Level::Patch).unwrap().to_string();
        for m in &after {
            let want = if m.name == "auth-pitneybowes" {
                &expected
            } else {
                &old
            };
            assert_eq!(&m.version, want, "{}", m.name);
        }
        assert!(Plan::new(&copy, &after, "patch", &["xtask".into()], "2026-12-01").is_err());
        assert!(Plan::new(&copy, &after, "patch", &["nope".into()], "2026-12-01").is_err());
    }
}
