//! pixgate's server: configuration, the HTTP service and the request path.
//! `main.rs` only calls [`cli::main`]; tests drive [`server::Server`] directly.

pub mod accept;
pub mod access;
pub mod admission;
pub mod body;
pub mod cache;
pub mod cli;
pub mod conditional;
pub mod config;
pub mod connections;
pub mod error;
pub mod handler;
pub mod health;
pub mod hits;
pub mod metrics;
pub mod original;
pub mod overrides;
pub mod process;
pub mod procstat;
pub mod request_id;
pub mod route;
pub mod save;
pub mod server;
pub mod socket;
pub mod state;
pub mod styles;
pub mod telemetry;
pub mod write;
