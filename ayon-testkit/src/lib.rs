//! An AYON-compatible server on loopback for tests and the demo, with faults on command.
//!
//! [`TestServer::start`] serves a [`Library`] (the JSON project library documented in
//! [`library`]) on a random 127.0.0.1 port from its own tokio runtime, so it works from plain
//! `#[test]` functions and from async tests alike. The handle injects the failures the real
//! server was recorded to have: restarts, worker crashes, hangs, latency, error statuses and
//! silent websockets. See `README.md` for what is served and which recorded exchanges are replayed.

mod auth;
pub mod child;
pub mod error;
mod fixtures;
mod graphql;
pub mod index_snapshot;
pub mod library;
mod project_rest;
mod publish;
pub mod python;
pub mod redis;
mod request;
mod resolve;
mod respond;
mod routes;
mod server;
mod state;
mod users;
mod validate;
mod ws;

pub use error::TestkitError;
pub use fixtures::{fixtures_dir, load_fixture};
pub use library::Library;
pub use publish::PUBLISH_TEMPLATE;
pub use server::{TestServer, TestServerBuilder};
