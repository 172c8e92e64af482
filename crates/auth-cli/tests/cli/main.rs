//! `authtoken` end to end: the built binary against local token endpoints (httpmock) that
//! answer each vendor's real bodies (`tests/fixtures/`), and against a vendor emulator.
//!
//! One test binary (each test file would link its own), a module per concern.

mod common;

mod cache;
mod demo;
mod emulator;
mod errors;
mod output;
mod status;
