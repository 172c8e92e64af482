//! Release readiness of the published crates: they package, their packages are clean and
//! small, and their versions agree with their changelogs.
//!
//! # What a package may not hold (the credential rules)
//!
//! Every file `cargo package --list` names (except cargo's own `Cargo.lock` and
//! `.cargo_vcs_info.json`) is scanned line by line. A line fails when it holds:
//!
//! - `private-key`: a PEM private key (`-----BEGIN ... PRIVATE KEY-----`);
//! - `easyship-key`: an Easyship API key: `prod_` or `sand_` followed by 20 or more
//!   token characters;
//! - `lwa-token`: a Login with Amazon token: `Atza|` or `Atzr|` followed by 20 or more
//!   token characters;
//! - `bearer`: `Bearer ` followed by 20 or more token characters;
//! - `secret-field`: a JSON or TOML field named like a secret (`access_token`,
//!   `refresh_token`, `client_secret`, `accessToken`, `refreshToken`, `api_secret`,
//!   `apiSecret`, `password`) whose string value has 16 or more characters, one of them a
//!   digit or a capital letter (`never-registered` is prose);
//! - `high-entropy`: a run of 40 or more base64/base64url characters mixing upper case,
//!   lower case and digits;
//! - `hex-secret`: a run of 32 or more hexadecimal digits mixing letters and digits.
//!
//! "Token characters" are ASCII letters, digits and `-._~+/=`. No rule but
//! `private-key` flags an obvious placeholder: a value containing `example`,
//! `placeholder`, `redacted`, `dummy`, `fake`, `your`, `xxxx`, `test`, `sample` or `<`
//! (case-insensitive; Amazon's documented tokens end in `EXAMPLE`). Any other value that is a known
//! that is a known fake (a vendor's documentation example kept on purpose) is allowed
//! only by an entry in [`ALLOWED`], which names the crate, the file, the exact value and
//! why. The packages hold only `src/`, the README, the changelog and the licenses: tests
//! and their recorded fixtures stay in the repository.
//!
//! # Size limits
//!
//! No packaged file over [`MAX_FILE_BYTES`], no package over [`MAX_PACKAGE_BYTES`]
//! (uncompressed).

use std::path::Path;

use crate::Result;
use crate::release::released_versions;
use crate::workspace::{cargo, members, output_of, publish_order, run_step};

/// Largest packaged file.
pub(crate) const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Largest package, uncompressed.
pub(crate) const MAX_PACKAGE_BYTES: u64 = 1024 * 1024;

/// Deletes what earlier package verifications left: our crates unpacked from cargo's
/// temporary registry (under `$CARGO_HOME/registry/src/-<hash>/`, a directory without an
/// index name) and their builds (sources under `registry/src/`). Cargo treats a registry
/// crate as immutable, so a second verification after a change would reuse the first
/// one's `auth-core 0.1.0`, and the dependants fail against the stale API (a fresh machine
/// never has them). Builds from the workspace's own paths are kept.
fn forget_packaged_builds(root: &Path, crates: &[String]) -> Result<()> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cargo"))
        });
    if let Some(Ok(sources)) = cargo_home.map(|home| std::fs::read_dir(home.join("registry/src"))) {
        for source in sources {
            let source = source?.path();
            let temporary = source
                .file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with('-'));
            if !temporary {
                continue;
            }
            for unpacked in std::fs::read_dir(&source)? {
                let unpacked = unpacked?.path();
                let name = unpacked.file_name().and_then(|f| f.to_str()).unwrap_or("");
                let ours = crates.iter().any(|c| {
                    name.strip_prefix(c.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|version| version.starts_with(|ch: char| ch.is_ascii_digit()))
                });
                if ours {
                    std::fs::remove_dir_all(&unpacked)?;
                }
            }
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let debug = target.join("debug");
    let Ok(entries) = std::fs::read_dir(debug.join("deps")) else {
        return Ok(());
    };
    let libs: Vec<String> = crates.iter().map(|c| c.replace('-', "_")).collect();
    for entry in entries {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".d") else {
            continue;
        };
        let Some((lib, hash)) = stem.rsplit_once('-') else {
            continue;
        };
        if !libs.iter().any(|l| l == lib) {
            continue;
        }
        let from_registry =
            std::fs::read_to_string(&path).is_ok_and(|deps| deps.contains("/registry/src/"));
        if !from_registry {
            continue;
        }
        for artefact in std::fs::read_dir(debug.join("deps"))? {
            let artefact = artefact?.path();
            let name = artefact.file_name().and_then(|f| f.to_str()).unwrap_or("");
            if name.contains(&format!("{lib}-{hash}")) {
                std::fs::remove_file(&artefact)?;
            }
        }
        let fingerprint = debug
            .join(".fingerprint")
            .join(format!("{}-{hash}", lib.replace('_', "-")));
        if fingerprint.exists() {
            std::fs::remove_dir_all(fingerprint)?;
        }
    }
    Ok(())
}

/// Explicitly allowed values: (crate, packaged path, exact value, why it is not a secret).
pub(crate) const ALLOWED: &[(&str, &str, &str, &str)] = &[
    (
        "auth-easyship",
        "src/grant.rs",
        "sand_4e2b327e2ef5471885cd0bc50a0c9fe5",
        "ApiKeySource's doc example: a sandbox-shaped key that the example checks offline",
    ),
    (
        "auth-easyship",
        "src/grant.rs",
        "4e2b327e2ef5471885cd0bc50a0c9fe5",
        "the same doc example key, seen by the hex rule",
    ),
    (
        "auth-easyship",
        "src/wire.rs",
        "test_3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8=",
        "Easyship's published 'Create an Access Token' response example",
    ),
    (
        "auth-easyship",
        "src/wire.rs",
        "UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg",
        "Easyship's published 'Create an Access Token' response example",
    ),
    (
        "auth-pitneybowes",
        "src/lib.rs",
        "m22wyEgfHlA0LudkGG9gG2xB04Cv",
        "Pitney Bowes' published token response example",
    ),
    (
        "auth-pitneybowes",
        "src/wire.rs",
        "m22wyEgfHlA0LudkGG9gG2xB04Cv",
        "Pitney Bowes' published token response example",
    ),
];

/// One credential-looking value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) rule: &'static str,
    pub(crate) line: usize,
    pub(crate) value: String,
}

pub(crate) fn check(root: &Path) -> Result<()> {
    let members = members(root)?;
    let order = publish_order(&members)?;
    let packages: Vec<String> = order
        .iter()
        .flat_map(|name| ["-p".to_owned(), name.clone()])
        .collect();
    forget_packaged_builds(root, &order)?;
    // All at once: cargo packages each crate against the others' new .crate files.
    run_step(
        "cargo package",
        cargo(root)
            .args(["package", "--allow-dirty"])
            .args(&packages),
    )?;
    let mut problems = Vec::new();
    for name in &order {
        let member = members.iter().find(|m| &m.name == name).expect("a member");
        let list = output_of(cargo(root).args(["package", "--list", "--allow-dirty", "-p", name]))?;
        let mut total = 0;
        let mut files = 0;
        for path in list.lines().map(str::trim).filter(|p| !p.is_empty()) {
            if matches!(
                path,
                "Cargo.lock" | ".cargo_vcs_info.json" | "Cargo.toml.orig"
            ) {
                continue;
            }
            let file = member.dir().join(path);
            let size = std::fs::metadata(&file)
                .map_err(|e| format!("{name}: {path}: {e}"))?
                .len();
            total += size;
            files += 1;
            if size > MAX_FILE_BYTES {
                problems.push(format!(
                    "{name}: {path} is {size} bytes (limit {MAX_FILE_BYTES})"
                ));
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                problems.push(format!(
                    "{name}: {path} is not UTF-8 text; binary files are not packaged"
                ));
                continue;
            };
            for finding in scan(&text) {
                let allowed = ALLOWED
                    .iter()
                    .any(|(c, p, v, _)| c == name && p == &path && v == &finding.value);
                if !allowed {
                    problems.push(format!(
                        "{name}: {path}:{}: credential-looking value ({}): {}",
                        finding.line,
                        finding.rule,
                        abbreviate(&finding.value)
                    ));
                }
            }
        }
        if total > MAX_PACKAGE_BYTES {
            problems.push(format!(
                "{name}: the package is {total} bytes (limit {MAX_PACKAGE_BYTES})"
            ));
        }
        println!(
            "{name} {}: {files} files, {} KiB, clean",
            member.version,
            total.div_ceil(1024)
        );

        let changelog = member.dir().join("CHANGELOG.md");
        match std::fs::read_to_string(&changelog) {
            Err(e) => problems.push(format!("{name}: {}: {e}", changelog.display())),
            Ok(text) => {
                if let Err(e) = changelog_agrees(&text, &member.version) {
                    problems.push(format!("{name}: CHANGELOG.md: {e}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("release checks failed:\n  {}", problems.join("\n  ")).into())
    }
}

/// A changelog agrees with a crate's `version` when it has an "Unreleased" section and
/// its newest release is that version (or it has none: the crate was never released).
pub(crate) fn changelog_agrees(text: &str, version: &str) -> Result<()> {
    if !text.contains("## [Unreleased]") {
        return Err("no `## [Unreleased]` section (Keep a Changelog)".into());
    }
    match released_versions(text).first() {
        None => Ok(()),
        Some(newest) if newest == version => Ok(()),
        Some(newest) => Err(format!(
            "the newest release is {newest} but the crate is {version}: \
             `cargo xtask release` moves both together"
        )
        .into()),
    }
}

fn abbreviate(value: &str) -> String {
    if value.len() > 12 {
        format!("{}… ({} chars)", &value[..8], value.len())
    } else {
        value.to_owned()
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/=".contains(c)
}

/// The run of token characters at the start of `s`.
fn token_run(s: &str) -> &str {
    let end = s.find(|c: char| !is_token_char(c)).unwrap_or(s.len());
    &s[..end]
}

const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "accessToken",
    "refreshToken",
    "api_secret",
    "apiSecret",
    "password",
];

const PLACEHOLDERS: &[&str] = &[
    "example",
    "placeholder",
    "redacted",
    "dummy",
    "fake",
    "your",
    "xxxx",
    "test",
    "sample",
    "<",
];

/// Credential-looking values in `text`, by the rules in the module docs.
pub(crate) fn scan(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut push = |rule, value: &str| {
            let lower = value.to_ascii_lowercase();
            if rule != "private-key" && PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
                return;
            }
            findings.push(Finding {
                rule,
                line: index + 1,
                value: value.to_owned(),
            });
        };
        if line.contains("-----BEGIN ") && line.contains("PRIVATE KEY-----") {
            push("private-key", line.trim());
        }
        for (rule, prefixes) in [
            ("easyship-key", ["prod_", "sand_"]),
            ("lwa-token", ["Atza|", "Atzr|"]),
        ] {
            for prefix in prefixes {
                for (at, _) in line.match_indices(prefix) {
                    let boundary = line[..at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_ascii_alphanumeric());
                    let value = token_run(&line[at + prefix.len()..]);
                    if boundary && value.len() >= 20 {
                        push(rule, &line[at..at + prefix.len() + value.len()]);
                    }
                }
            }
        }
        for (at, _) in line.match_indices("Bearer ") {
            let value = token_run(&line[at + "Bearer ".len()..]);
            if value.len() >= 20 {
                push("bearer", value);
            }
        }
        for field in SECRET_FIELDS {
            for (at, _) in line.match_indices(field) {
                let rest = line[at + field.len()..].trim_start_matches(['"', ' ']);
                let Some(rest) = rest.strip_prefix([':', '=']) else {
                    continue;
                };
                let Some(rest) = rest.trim_start().strip_prefix('"') else {
                    continue;
                };
                let value = rest.split('"').next().unwrap_or_default();
                // Words (`never-registered`) are prose; a credential has a digit or a capital.
                let wordy = !value
                    .chars()
                    .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
                if value.len() >= 16 && !wordy {
                    push("secret-field", value);
                }
            }
        }
        let mut rest = line;
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
            let run_end = rest[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || "+/=_-".contains(c)))
                .map_or(rest.len(), |i| start + i);
            let run = &rest[start..run_end];
            let has = |f: fn(&char) -> bool| run.chars().any(|c| f(&c));
            if run.len() >= 40
                && has(char::is_ascii_uppercase)
                && has(char::is_ascii_lowercase)
                && has(char::is_ascii_digit)
            {
                push("high-entropy", run);
            }
            for hex in run.split(|c: char| !c.is_ascii_hexdigit()) {
                if hex.len() >= 32
                    && hex.chars().any(|c| c.is_ascii_digit())
                    && hex.chars().any(|c| c.is_ascii_alphabetic())
                {
                    push("hex-secret", hex);
                }
            }
            rest = &rest[run_end..];
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<&'static str> {
        scan(text).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn credential_rules_flag_real_looking_values() {
        let cases = [
            ("-----BEGIN RSA PRIVATE KEY-----", "private-key"),
            ("key = \"prod_9cJxZk2m4QvT7yLs3HdWbE1f\"", "easyship-key"),
            ("\"sand_9cJxZk2m4QvT7yLs3HdWbE1f\"", "easyship-key"),
            ("Atzr|IwEBIJ4v7rGk9dF0sLmPq2", "lwa-token"),
            ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "bearer"),
            (
                "\"refresh_token\": \"UhLaQeeduKhGPLoEnQ29\"",
                "secret-field",
            ),
            ("client_secret = \"s3cr3t-value-0123456\"", "secret-field"),
            (
                "x = \"3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8=\"",
                "high-entropy",
            ),
            (
                "sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
                "hex-secret",
            ),
        ];
        for (line, rule) in cases {
            assert!(rules(line).contains(&rule), "{line}: {:?}", rules(line));
        }
    }

    #[test]
    fn credential_rules_leave_placeholders_and_prose_alone() {
        for line in [
            "\"refresh_token\": \"your-refresh-token\"",
            "\"access_token\": \"at-1\"",
            "\"refresh_token\": \"never-registered\"",
            "\"Atza|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE\"",
            "client_secret = \"amzn1.oa2-cs.v1.example\"",
            "Bearer <token>",
            "sand_box and prod_uction are words",
            "fn cached_token_provider_refreshes_in_the_background_once() {}",
            "https://sellercentral-europe.amazon.com/apps/authorize/consent",
            "let json = r#\"{\"access_token\":\"at\",\"token_type\":\"Bearer\"}\"#;",
        ] {
            assert!(scan(line).is_empty(), "{line}: {:?}", scan(line));
        }
    }

    #[test]
    fn changelog_must_match_the_crate_version() {
        let text = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n\n## [0.1.0] - 2026-01-01\n";
        assert!(changelog_agrees(text, "0.2.0").is_ok());
        assert!(changelog_agrees(text, "0.3.0").is_err());
        assert!(changelog_agrees("# Changelog\n\n## [Unreleased]\n", "0.1.0").is_ok());
        assert!(changelog_agrees("# Changelog\n", "0.1.0").is_err());
    }
}
