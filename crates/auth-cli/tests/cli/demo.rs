//! `authtoken demo`: every flow of every vendor against the emulators, offline.

use crate::common::{authtoken, redis_url, run};

/// Every flow the demo must list: (vendor, flow).
const FLOWS: &[(&str, &str)] = &[
    ("easyship", "authorize, exchange code, API call"),
    ("easyship", "20 single-use refreshes via the store"),
    ("easyship", "refresh answer lost after rotating"),
    ("easyship", "next refresh: invalid_grant, store dead"),
    ("easyship", "new authorization via replace_token"),
    ("easyship", "client credentials, API call"),
    ("easyship", "1,000 callers on a cold provider"),
    ("easyship", "API refuses token: new one, one retry"),
    ("amazon-sp", "consent, exchange code, API call"),
    ("amazon-sp", "3 refreshes via the store"),
    ("amazon-sp", "refresh answer lost: asked again"),
    ("amazon-sp", "grantless, API call"),
    ("pitneybowes", "client credentials via the store, API call"),
    ("orangeconnex", "authorize, exchange code, API call"),
    ("orangeconnex", "3 rotating refreshes via the store"),
];

#[test]
fn demo_runs_every_flow_of_every_vendor_and_exits_0() {
    let stdout = demo(&[]);
    assert!(stdout.starts_with("store: FileStore in "), "{stdout}");
}

/// The same flows through a `RedisStore` (keys under a prefix of the run's own).
#[test]
fn demo_runs_every_flow_through_a_redis_store() {
    let Some(url) = redis_url() else { return };
    let stdout = demo(&["--store", &url]);
    assert!(
        stdout.starts_with("store: RedisStore, keys under authtoken-demo:"),
        "{stdout}"
    );
}

/// Runs `authtoken demo` with `args`, checks every flow's row, and returns its output.
fn demo(args: &[&str]) -> String {
    let mut command = authtoken();
    // No credentials at all: the demo needs none.
    command
        .env_remove("AUTHTOKEN_CLIENT_ID")
        .env_remove("AUTHTOKEN_CLIENT_SECRET")
        .arg("demo")
        .args(args);
    let ran = run(&mut command);
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[2].starts_with("VENDOR"), "{}", ran.stdout);
    for (vendor, flow) in FLOWS {
        let line = lines
            .iter()
            .find(|line| line.starts_with(vendor) && line.contains(flow))
            .unwrap_or_else(|| panic!("no row for {vendor} {flow:?}:\n{}", ran.stdout));
        assert!(line.contains("  ok"), "{line}");
    }
    let rows = lines.iter().filter(|line| line.ends_with(" ms")).count();
    assert_eq!(rows, FLOWS.len(), "{}", ran.stdout);
    assert!(!ran.stdout.contains("FAILED"), "{}", ran.stdout);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    // No token: every emulator token, code and secret is 32 characters or more, and no
    // word of the report is that long (the store line's key prefix is 32 with its run id).
    let longest = lines[2..]
        .iter()
        .flat_map(|line| line.split_whitespace())
        .map(str::len)
        .max();
    assert!(longest < Some(32), "{}", ran.stdout);
    ran.stdout
}
