//! The binary, the vendors' token endpoints, and the checks every test shares.

use std::path::Path;

use assert_cmd::Command;
use httpmock::MockServer;

/// Credentials and tokens the tests configure: none of them may ever be printed, except
/// an access token a test asked for.
pub(crate) const CLIENT_ID: &str = "cli-client-id";
pub(crate) const CLIENT_SECRET: &str = "cs-Secret-7f3a9";
pub(crate) const CLIENT_KEY: &str = "ck-Key-51e0b";
pub(crate) const REFRESH_TOKEN: &str = "rt-Seed-0c4d2";
pub(crate) const CODE: &str = "code-Once-93ab1";

/// Every secret a test configures.
pub(crate) const CONFIGURED: &[&str] = &[CLIENT_SECRET, CLIENT_KEY, REFRESH_TOKEN, CODE];

/// A vendor fixture body.
pub(crate) fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// `authtoken` with no `AUTHTOKEN_*` variable inherited from the test's environment,
/// and the client credentials in the documented variables.
pub(crate) fn authtoken() -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("authtoken"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AUTHTOKEN_") {
            command.env_remove(name);
        }
    }
    command
        .env("AUTHTOKEN_CLIENT_ID", CLIENT_ID)
        .env("AUTHTOKEN_CLIENT_SECRET", CLIENT_SECRET);
    command
}

/// `REDIS_URL` if it is set, `None` (the test is skipped) if not; a panic when `CI` is
/// set, so a CI run never silently skips a Redis test.
pub(crate) fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("REDIS_URL is not set and CI is: the Redis tests must run in CI")
        }
        _ => {
            eprintln!("note: REDIS_URL is not set; skipping this Redis test");
            None
        }
    }
}

/// What a finished command printed.
pub(crate) struct Ran {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `command` and returns its exit code and output.
pub(crate) fn run(command: &mut Command) -> Ran {
    let output = command.output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

impl Ran {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub(crate) fn ok(self) -> String {
        assert_eq!(
            self.code,
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self.stdout
    }

    /// Asserts none of `secrets` is in stdout or stderr.
    #[track_caller]
    pub(crate) fn assert_no_secret(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.stdout.contains(secret),
                "stdout holds {secret}: {}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(secret),
                "stderr holds {secret}: {}",
                self.stderr
            );
        }
    }
}

/// The Pitney Bowes token endpoint: Basic `CLIENT_ID:CLIENT_SECRET`, form body
/// `grant_type=client_credentials`.
pub(crate) fn pitneybowes_endpoint(server: &MockServer) -> httpmock::Mock<'_> {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    server.mock(|when, then| {
        when.method("POST")
            .path("/oauth/token")
            .header("authorization", format!("Basic {basic}"))
            .form_urlencoded_tuple("grant_type", "client_credentials");
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("pitneybowes-token.json"));
    })
}

/// An Easyship refresh answer: access token `access`, the rotated refresh token `next`,
/// `expires_in` seconds (the documented authorization-code body's shape, without a
/// `created_at`).
pub(crate) fn easyship_rotation(access: &str, next: &str, expires_in: u64) -> String {
    serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": next,
        "scope": "rate shipment label",
    })
    .to_string()
}

/// The Easyship token endpoint answering a refresh with `presented` (JSON body) by
/// `body`.
pub(crate) fn easyship_refresh<'a>(
    server: &'a MockServer,
    presented: &str,
    status: u16,
    body: String,
) -> httpmock::Mock<'a> {
    let presented = serde_json::json!({
        "grant_type": "refresh_token",
        "refresh_token": presented,
    })
    .to_string();
    server.mock(|when, then| {
        when.method("POST")
            .path("/oauth2/token")
            .json_body_includes(presented);
        then.status(status)
            .header("content-type", "application/json")
            .body(body);
    })
}

/// Every file under `dir` (recursively) has mode 0600, and there is at least one.
#[cfg(unix)]
#[track_caller]
pub(crate) fn assert_private_files(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            assert_private_files(&entry.path());
            continue;
        }
        seen += 1;
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", entry.path().display());
    }
    assert!(seen > 0, "no file in {}", dir.display());
}
