//! Cross-crate tests; the tests themselves are in `tests/tests/`.
//!
//! - `fleet.rs`: 8 worker processes (`bin/fleet_worker.rs`) share one Easyship token
//!   through one `RedisStore` or `FileStore` key for 20 s, steady and with the lease
//!   holder SIGKILLed mid-refresh: no `invalid_grant`, the chain intact, bounded token
//!   requests and stalls; prints each run's figures.
//! - `middleware.rs`: `auth_core::TokenMiddleware` in a `reqwest_middleware` stack, against
//!   the Pitney Bowes emulator.
//! - `multi_process_rotation.rs`: several OS processes share one `FileStore` and one
//!   single-use refresh-token chain (Easyship's rule) without ever spending a refresh
//!   token twice.
//! - `sellers.rs`: one generic test over `SubjectTokens` drives Amazon's, Easyship's and
//!   Orange Connex's `SellerTokens` against their emulators: each seller's own token, an
//!   evicted seller back from the store without a request, the store's rotated refresh
//!   token used after a rebuild, `authorize`, `send` and `settle`.
//! - `vendor_clients.rs`: every vendor client is `Clone + Send + Sync` and never prints a
//!   credential.
//! - `vendor_contract.rs`: one generic function over `VendorClient` drives all four
//!   vendors' one-call providers: the token on the vendor's header, one retry after the
//!   vendor's own "token rejected" answer.

/// The README's examples (quick starts, the emulator test), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
