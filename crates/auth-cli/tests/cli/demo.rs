//! `authtoken demo`: every flow of every vendor against the emulators, offline.

use crate::common::{authtoken, run};

/// Every flow the demo must list: (vendor, flow).
const FLOWS: &[(&str, &str)] = &[
    ("easyship", "authorize, exchange code, API call"),
    ("easyship", "20 single-use refreshes via FileStore"),
    ("easyship", "refresh answer lost after rotating"),
    ("easyship", "next refresh: invalid_grant, store dead"),
    ("easyship", "new authorization via replace_token"),
    ("easyship", "client credentials, API call"),
    ("easyship", "1,000 callers on a cold provider"),
    ("easyship", "API refuses token: new one, one retry"),
    ("amazon-sp", "consent, exchange code, API call"),
    ("amazon-sp", "3 refreshes via FileStore"),
    ("amazon-sp", "refresh answer lost: asked again"),
    ("amazon-sp", "grantless, API call"),
    ("pitneybowes", "client credentials via FileStore, API call"),
    ("orangeconnex", "authorize, exchange code, API call"),
    ("orangeconnex", "3 rotating refreshes via FileStore"),
];

#[test]
fn demo_runs_every_flow_of_every_vendor_and_exits_0() {
    let mut command = authtoken();
    // No credentials at all: the demo needs none.
    command
        .env_remove("AUTHTOKEN_CLIENT_ID")
        .env_remove("AUTHTOKEN_CLIENT_SECRET")
        .arg("demo");
    let ran = run(&mut command);
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[0].starts_with("VENDOR"), "{}", ran.stdout);
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
    // word of the report is that long.
    let longest = ran.stdout.split_whitespace().map(str::len).max();
    assert!(longest < Some(32), "{}", ran.stdout);
}
